import type * as tf from '@tensorflow/tfjs-core';
import { softmax } from './functional/activations';
import { AlongDim, type AlongDimOptions } from './internal/along-dim';

export type SoftmaxOptions = AlongDimOptions;

/**
 * exp(x) / sum(exp(x)) along `dim`, as torch.nn.Softmax.
 *
 * Shape: any (rank > |dim|) -> the same.
 */
export class Softmax extends AlongDim {
  constructor(options: SoftmaxOptions = {}) {
    super('Softmax', options);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkDim(x.shape);
    return softmax(x, this.config.dim);
  }
}
