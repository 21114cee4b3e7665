import type * as tf from '@tensorflow/tfjs-core';
import { softplus } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface SoftplusOptions {
  /** Sharpness. Default 1. */
  beta?: number;
  /** Above `beta·x > threshold` the layer returns x. Default 20. */
  threshold?: number;
}

/** torch.nn.Softplus's positional order. */
const signature = layerSignature<SoftplusOptions>()('Softplus', [], ['beta', 'threshold']);

/**
 * `log(1 + exp(beta·x)) / beta`, linear above the threshold, as torch.nn.Softplus.
 *
 * Shape: any -> the same.
 */
export class Softplus extends Elementwise<Required<SoftplusOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { beta: 1, threshold: 20, ...options };
    if (typeof config.beta !== 'number' || !Number.isFinite(config.beta) || config.beta === 0) {
      throw new Error(
        `Softplus: expected beta to be a finite non-zero number, received ${config.beta}`,
      );
    }
    if (typeof config.threshold !== 'number' || Number.isNaN(config.threshold)) {
      throw new Error(`Softplus: expected threshold to be a number, received ${config.threshold}`);
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return softplus(x, this.config.beta, this.config.threshold);
  }
}
