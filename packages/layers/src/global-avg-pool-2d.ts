import * as tf from '@tensorflow/tfjs-core';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface GlobalAvgPool2dOptions {
  /** Keep the spatial axes as size 1 (`[N, 1, 1, C]`). Default false (`[N, C]`). */
  keepDims?: boolean;
}

/** The positional order. */
const signature = layerSignature<GlobalAvgPool2dOptions>()('GlobalAvgPool2d', [], ['keepDims']);

/**
 * The mean over the spatial axes (convkit convenience; PyTorch writes
 * `AdaptiveAvgPool2d(1)` then `flatten(1)`, or `x.mean((2, 3))`).
 *
 * Shape: `[N, H, W, C]` -> `[N, C]`, or `[N, 1, 1, C]` with `keepDims`.
 */
export class GlobalAvgPool2d extends Module<Required<GlobalAvgPool2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { keepDims: false, ...options };
    if (typeof config.keepDims !== 'boolean') {
      throw new Error(
        `GlobalAvgPool2d: expected keepDims to be a boolean, received ${JSON.stringify(config.keepDims)}`,
      );
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) this.outputShape(x.shape);
    return tf.mean(x, [1, 2], this.config.keepDims);
  }

  outputShape(input: Shape): Shape {
    this.expectRank(input, 4, 'NHWC input');
    return this.config.keepDims ? [input[0], 1, 1, input[3]] : [input[0], input[3]];
  }
}
