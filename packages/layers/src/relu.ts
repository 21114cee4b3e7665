import * as tf from '@tensorflow/tfjs-core';
import { Module, type Shape } from './module';

/**
 * max(0, x), as torch.nn.ReLU.
 *
 * Shape: any -> the same.
 */
export class ReLU extends Module<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  outputShape(input: Shape): Shape {
    return [...input];
  }
}
