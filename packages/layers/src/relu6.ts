import type * as tf from '@tensorflow/tfjs-core';
import { relu6 } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * min(max(0, x), 6), as torch.nn.ReLU6; gradient 0 at 0 and at 6 (PyTorch's).
 *
 * Shape: any -> the same.
 */
export class ReLU6 extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return relu6(x);
  }
}
