import type * as tf from '@tensorflow/tfjs-core';
import { gelu } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface GELUOptions {
  /** `'none'` (exact, through erf) or `'tanh'` (the tanh approximation). Default `'none'`. */
  approximate?: 'none' | 'tanh';
}

/** torch.nn.GELU's positional order. */
const signature = layerSignature<GELUOptions>()('GELU', [], ['approximate']);

/**
 * x * Phi(x), as torch.nn.GELU.
 *
 * Shape: any -> the same.
 */
export class GELU extends Elementwise<Required<GELUOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
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
