import type * as tf from '@tensorflow/tfjs-core';
import { gelu } from './functional/activations';
import { Elementwise } from './internal/elementwise';

export interface GELUOptions {
  /** `'none'` (exact, through erf) or `'tanh'` (the tanh approximation). Default `'none'`. */
  approximate?: 'none' | 'tanh';
}

/**
 * x * Phi(x), as torch.nn.GELU.
 *
 * Shape: any -> the same.
 */
export class GELU extends Elementwise<Required<GELUOptions>> {
  constructor(options: GELUOptions = {}) {
    const config = { approximate: 'none' as const, ...options };
    if (config.approximate !== 'none' && config.approximate !== 'tanh') {
      throw new Error(
        `GELU: expected approximate to be 'none' or 'tanh', received ${JSON.stringify(config.approximate)}`,
      );
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x, this.config.approximate);
  }
}
