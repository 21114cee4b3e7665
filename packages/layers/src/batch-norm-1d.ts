import type * as tf from '@tensorflow/tfjs-core';
import { NormBase, type NormOptions } from './internal/norm-base';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import type { Shape } from './module';

export type BatchNorm1dOptions = NormOptions;

/** torch.nn.BatchNorm1d's positional order. */
const signature = layerSignature<BatchNorm1dOptions>()(
  'BatchNorm1d',
  ['numFeatures'],
  ['eps', 'momentum', 'affine', 'trackRunningStats'],
);

/**
 * Batch normalization of features `[N, C]` or channels-last sequences `[N, L, C]` (PyTorch's
 * `[N, C, L]`), as torch.nn.BatchNorm1d; statistics per channel over every other axis. Train and
 * eval behave as in BatchNorm2d.
 *
 * Shape: `[N, C]` or `[N, L, C]` -> the same.
 * Parameters (affine): `weight` `[C]` (ones), `bias` `[C]` (zeros), layout `vector`.
 * Buffers (trackRunningStats): `running_mean` `[C]`, `running_var` `[C]`,
 * `num_batches_tracked` int32 scalar (int64 in PyTorch).
 */
export class BatchNorm1d extends NormBase {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    super('BatchNorm1d', options, {
      eps: 1e-5,
      momentum: 0.1,
      affine: true,
      trackRunningStats: true,
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkShape(x.shape);
    if (!this.usesInputStatistics) return this.normalizeWithRunningStatistics(x);
    return this.normalizeWithInputStatistics(x, x.rank === 2 ? [0] : [0, 1], true);
  }

  protected checkShape(input: Shape): void {
    this.checkRankAndChannels(input, [2, 3], '[N, C] or [N, L, C]');
  }
}
