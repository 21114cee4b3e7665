import type * as tf from '@tensorflow/tfjs-core';
import { logSoftmax } from './functional/activations';
import { AlongDim, type AlongDimOptions } from './internal/along-dim';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export type LogSoftmaxOptions = AlongDimOptions;

/** torch.nn.LogSoftmax's positional order. */
const signature = layerSignature<LogSoftmaxOptions>()('LogSoftmax', [], ['dim']);

/**
 * log(softmax(x)), computed stably, along `dim`, as torch.nn.LogSoftmax.
 *
 * Shape: any (rank > |dim|) -> the same.
 */
export class LogSoftmax extends AlongDim {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    super('LogSoftmax', options);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkDim(x.shape);
    return logSoftmax(x, this.config.dim);
  }
}
