import type * as tf from '@tensorflow/tfjs-core';
import { celu } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface CELUOptions {
  /** Default 1; must not be 0. */
  alpha?: number;
}

/** torch.nn.CELU's positional order. */
const signature = layerSignature<CELUOptions>()('CELU', [], ['alpha']);

/**
 * x for x > 0, `alpha·(exp(x / alpha) − 1)` otherwise, as torch.nn.CELU (gradient 1 at 0).
 *
 * Shape: any -> the same.
 */
export class CELU extends Elementwise<Required<CELUOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { alpha: 1, ...options };
    if (typeof config.alpha !== 'number' || !Number.isFinite(config.alpha) || config.alpha === 0) {
      throw new Error(
        `CELU: expected alpha to be a finite non-zero number, received ${config.alpha}`,
      );
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return celu(x, this.config.alpha);
  }
}
