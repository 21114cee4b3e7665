import type * as tf from '@tensorflow/tfjs-core';
import { mish } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * x * tanh(softplus(x)), as torch.nn.Mish.
 *
 * Shape: any -> the same.
 */
export class Mish extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return mish(x);
  }
}
