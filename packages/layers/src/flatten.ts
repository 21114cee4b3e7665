import * as tf from '@tensorflow/tfjs-core';
import { Module, type Shape } from './module';

/**
 * Flattens every axis after the batch axis, as torch.nn.Flatten() (startDim 1).
 *
 * Shape: `[N, ...]` -> `[N, product]`. On NHWC input the features come in H, W, C order, not
 * PyTorch's C, H, W: a PyTorch checkpoint's following Linear needs its columns permuted (the
 * weights converters do this).
 */
export class Flatten extends Module<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1) this.outputShape(x.shape);
    return tf.reshape(x, [x.shape[0], -1]);
  }

  outputShape(input: Shape): Shape {
    if (input.length < 1)
      throw new Error(
        `${this.label}: expected an input with a batch axis, received shape [${input}]`,
      );
    return [input[0], input.slice(1).reduce((a, b) => a * b, 1)];
  }
}
