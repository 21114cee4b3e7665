import type * as tf from '@tensorflow/tfjs-core';
import { softmax } from './functional/activations';
import { AlongDim, type AlongDimOptions } from './internal/along-dim';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export type SoftmaxOptions = AlongDimOptions;

/** torch.nn.Softmax's positional order. */
const signature = layerSignature<SoftmaxOptions>()('Softmax', [], ['dim']);

/**
 * exp(x) / sum(exp(x)) along `dim`, as torch.nn.Softmax.
 *
 * Shape: any (rank > |dim|) -> the same.
 */
export class Softmax extends AlongDim {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    super('Softmax', options);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkDim(x.shape);
    return softmax(x, this.config.dim);
  }
}
