import type * as tf from '@tensorflow/tfjs-core';
import { logSigmoid } from './functional/activations';
import { Elementwise } from './internal/elementwise';

/**
 * log(sigmoid(x)), computed stably (`min(x, 0) − log1p(exp(−|x|))`), as torch.nn.LogSigmoid.
 *
 * Shape: any -> the same.
 */
export class LogSigmoid extends Elementwise<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(x: tf.Tensor): tf.Tensor {
    return logSigmoid(x);
  }
}
