import * as tf from '@tensorflow/tfjs-core';
import { Module, type Shape } from './module';

/**
 * Returns its input, as torch.nn.Identity (a placeholder, e.g. for a removed classifier).
 * `forward` returns a clone, so the caller may dispose input and output independently.
 *
 * Shape: any -> the same.
 */
export class Identity extends Module<Record<string, never>> {
  constructor(_options?: unknown) {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.clone(x);
  }

  outputShape(input: Shape): Shape {
    return [...input];
  }
}
