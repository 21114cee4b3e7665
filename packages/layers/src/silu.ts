import type * as tf from '@tensorflow/tfjs-core';
import { silu } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * x * sigmoid(x), as torch.nn.SiLU (swish).
 *
 * Shape: any -> the same.
 */
export class SiLU extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return silu(x);
  }
}
