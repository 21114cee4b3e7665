import type * as tf from '@tensorflow/tfjs-core';
import { NormBase, type NormOptions } from './internal/norm-base';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import type { Shape } from './module';

export interface InstanceNorm2dOptions extends NormOptions {
  /** Default 0.1; null (cumulative average) is not accepted, as in PyTorch. */
  momentum?: number;
}

/** torch.nn.InstanceNorm2d's positional order. */
const signature = layerSignature<InstanceNorm2dOptions>()(
  'InstanceNorm2d',
  ['numFeatures'],
  ['eps', 'momentum', 'affine', 'trackRunningStats'],
);

/**
 * Instance normalization over NHWC input, as torch.nn.InstanceNorm2d: each sample's channel is
 * normalized over H and W. With trackRunningStats, train mode also updates running estimates
 * with the batch average of the per-instance statistics (variance unbiased) and eval (or
 * frozen) mode uses them; `num_batches_tracked` exists but stays 0, as in PyTorch.
 *
 * Shape: `[N, H, W, C]` -> the same.
 * Parameters (affine, default off): `weight` `[C]` (ones), `bias` `[C]` (zeros), layout `vector`.
 * Buffers (trackRunningStats, default off): `running_mean` `[C]`, `running_var` `[C]`,
 * `num_batches_tracked` int32 scalar.
 */
export class InstanceNorm2d extends NormBase {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    if (options?.momentum === null) {
      throw new Error('InstanceNorm2d: expected momentum to be a number in [0, 1], received null');
    }
    super('InstanceNorm2d', options, {
      eps: 1e-5,
      momentum: 0.1,
      affine: false,
      trackRunningStats: false,
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkShape(x.shape);
    if (!this.usesInputStatistics) return this.normalizeWithRunningStatistics(x);
    return this.normalizeWithInputStatistics(x, [1, 2], false);
  }

  protected checkShape(input: Shape): void {
    this.checkRankAndChannels(input, [4], '[N, H, W, C]');
  }
}
