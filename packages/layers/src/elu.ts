import type * as tf from '@tensorflow/tfjs-core';
import { elu } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface ELUOptions {
  /** Default 1. */
  alpha?: number;
}

/** torch.nn.ELU's positional order. */
const signature = layerSignature<ELUOptions>()('ELU', [], ['alpha']);

/**
 * x for x > 0, `alpha * (exp(x) - 1)` otherwise, as torch.nn.ELU (gradient `alpha` at 0).
 *
 * Shape: any -> the same.
 */
export class ELU extends Elementwise<Required<ELUOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { alpha: 1, ...options };
    if (typeof config.alpha !== 'number' || !Number.isFinite(config.alpha)) {
      throw new Error(`ELU: expected alpha to be a finite number, received ${config.alpha}`);
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return elu(x, this.config.alpha);
  }
}
