import type * as tf from '@tensorflow/tfjs-core';
import { sigmoid } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * 1 / (1 + exp(-x)), as torch.nn.Sigmoid.
 *
 * Shape: any -> the same.
 */
export class Sigmoid extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return sigmoid(x);
  }
}
