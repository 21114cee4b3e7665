import type * as tf from '@tensorflow/tfjs-core';
import { NormBase, type NormOptions } from './internal/norm-base';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import type { Shape } from './module';

export type BatchNorm2dOptions = NormOptions;

/** torch.nn.BatchNorm2d's positional order. */
const signature = layerSignature<BatchNorm2dOptions>()(
  'BatchNorm2d',
  ['numFeatures'],
  ['eps', 'momentum', 'affine', 'trackRunningStats'],
);

/**
 * Batch normalization over NHWC input, as torch.nn.BatchNorm2d. Train mode normalizes with
 * the batch's mean and biased variance per channel and updates the running estimates (the
 * variance unbiased, as PyTorch); eval mode, or a frozen layer (the Keras rule), normalizes with
 * the running estimates and leaves them alone.
 *
 * Shape: `[N, H, W, C]` -> the same.
 * Parameters (affine): `weight` `[C]` (ones), `bias` `[C]` (zeros), layout `vector`.
 * Buffers (trackRunningStats): `running_mean` `[C]` (zeros), `running_var` `[C]` (ones),
 * `num_batches_tracked` int32 scalar (int64 in PyTorch).
 */
export class BatchNorm2d extends NormBase {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    super('BatchNorm2d', options, {
      eps: 1e-5,
      momentum: 0.1,
      affine: true,
      trackRunningStats: true,
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkShape(x.shape);
    if (!this.usesInputStatistics) return this.normalizeWithRunningStatistics(x);
    return this.normalizeWithInputStatistics(x, [0, 1, 2], true);
  }

  protected checkShape(input: Shape): void {
    this.checkRankAndChannels(input, [4], '[N, H, W, C]');
  }
}
