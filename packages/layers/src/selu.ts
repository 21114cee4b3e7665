import type * as tf from '@tensorflow/tfjs-core';
import { selu } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * scale * elu(x, alpha) with alpha = 1.6732632423543772, scale = 1.0507009873554805, as torch.nn.SELU.
 *
 * Shape: any -> the same.
 */
export class SELU extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return selu(x);
  }
}
