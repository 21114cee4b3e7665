import type * as tf from '@tensorflow/tfjs-core';
import { leakyRelu } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface LeakyReLUOptions {
  /** Slope for x < 0. Default 0.01. */
  negativeSlope?: number;
}

/** torch.nn.LeakyReLU's positional order. */
const signature = layerSignature<LeakyReLUOptions>()('LeakyReLU', [], ['negativeSlope']);

/**
 * x for x > 0, `negativeSlope * x` otherwise, as torch.nn.LeakyReLU (gradient `negativeSlope`
 * at 0).
 *
 * Shape: any -> the same.
 */
export class LeakyReLU extends Elementwise<Required<LeakyReLUOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { negativeSlope: 0.01, ...options };
    if (typeof config.negativeSlope !== 'number' || !Number.isFinite(config.negativeSlope)) {
      throw new Error(
        `LeakyReLU: expected negativeSlope to be a finite number, received ${config.negativeSlope}`,
      );
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return leakyRelu(x, this.config.negativeSlope);
  }
}
