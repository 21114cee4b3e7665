import type * as tf from '@tensorflow/tfjs-core';
import { tanh } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * tanh(x), as torch.nn.Tanh.
 *
 * Shape: any -> the same.
 */
export class Tanh extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tanh(x);
  }
}
