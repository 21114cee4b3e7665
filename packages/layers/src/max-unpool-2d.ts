import * as tf from '@tensorflow/tfjs-core';
import { maxUnpoolWith, unpoolGeometry } from './functional/pooling';
import type { IntOrPair } from './int-or-pair';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface MaxUnpool2dOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair;
  /** Default 0. */
  padding?: IntOrPair;
}

/** torch.nn.MaxUnpool2d's positional order. */
const signature = layerSignature<MaxUnpool2dOptions>()(
  'MaxUnpool2d',
  ['kernelSize'],
  ['stride', 'padding'],
);

/**
 * The partial inverse of MaxPool2d, as torch.nn.MaxUnpool2d: `forward(x, indices)` writes every
 * value of `x` where `indices` (from `MaxPool2d` with `returnIndices`, or `forwardWithIndices`)
 * says its maximum came from, zeros elsewhere. Gradient: the output gradient gathered at those
 * positions, as PyTorch. For an odd-sized original, use the functional `maxUnpool2d` with
 * `outputSize`.
 *
 * Shape: `[N, H', W', C]`, indices `[N, H', W', C]` int32 -> `[N, H, W, C]`,
 * `H = (H' - 1)·stride + kernelSize - 2·padding`.
 */
export class MaxUnpool2d extends Module<Required<MaxUnpool2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { padding: 0, ...options, stride: options?.stride ?? options?.kernelSize };
    unpoolGeometry('MaxUnpool2d', [1, 1, 1, 1], undefined, config);
    super(config);
  }

  forward(x: tf.Tensor, indices: tf.Tensor): tf.Tensor {
    if (!(indices instanceof tf.Tensor) || indices.dtype !== 'int32') {
      throw new Error(
        `${this.label}: expected indices to be an int32 tensor (from MaxPool2d with returnIndices), received ${indices instanceof tf.Tensor ? `dtype ${indices.dtype}` : typeof indices}`,
      );
    }
    return maxUnpoolWith(
      x,
      indices,
      unpoolGeometry(this.label, x.shape, indices.shape, this.config),
    );
  }

  outputShape(input: Shape, indices?: Shape): Shape {
    const [h, w] = unpoolGeometry(this.label, input, indices, this.config);
    return [input[0], h, w, input[3]];
  }
}
