import type * as tf from '@tensorflow/tfjs-core';
import { hardswish } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * x * relu6(x + 3) / 6, as torch.nn.Hardswish; gradient -0.5 at -3 and 1.5 at 3 (PyTorch's).
 *
 * Shape: any -> the same.
 */
export class Hardswish extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return hardswish(x);
  }
}
