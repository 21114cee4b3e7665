import type * as tf from '@tensorflow/tfjs-core';
import { logSoftmax } from './functional/activations';
import { AlongDim, type AlongDimOptions } from './internal/along-dim';

export type LogSoftmaxOptions = AlongDimOptions;

/**
 * log(softmax(x)), computed stably, along `dim`, as torch.nn.LogSoftmax.
 *
 * Shape: any (rank > |dim|) -> the same.
 */
export class LogSoftmax extends AlongDim {
  constructor(options: LogSoftmaxOptions = {}) {
    super('LogSoftmax', options);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkDim(x.shape);
    return logSoftmax(x, this.config.dim);
  }
}
