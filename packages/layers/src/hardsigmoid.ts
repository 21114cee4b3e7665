import type * as tf from '@tensorflow/tfjs-core';
import { hardsigmoid } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * relu6(x + 3) / 6, as torch.nn.Hardsigmoid; gradient 0 at ±3 (PyTorch's).
 *
 * Shape: any -> the same.
 */
export class Hardsigmoid extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return hardsigmoid(x);
  }
}
