import { batchNormTraining } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { affine, batchNorm, normalize } from '../functional/normalization';
import { Module, type Shape } from '../module';
import { Buffer, Param } from '../param';

/** Options shared by BatchNorm1d, BatchNorm2d and InstanceNorm2d (PyTorch's `_NormBase`). */
export interface NormOptions {
  /** The channel count C (last axis). */
  numFeatures: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the newest batch in the running estimates, or `null` for a cumulative average
   * (1 / num_batches_tracked; BatchNorm only). Default 0.1.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias`. */
  affine?: boolean;
  /** Keep running estimates (buffers) for inference. */
  trackRunningStats?: boolean;
}

export type NormConfig = Required<NormOptions>;

/**
 * The state of a normalization layer with running statistics, after torch.nn.modules.batchnorm
 * ._NormBase: members in PyTorch's state-dict order `weight`, `bias`, `running_mean`,
 * `running_var`, `num_batches_tracked`.
 */
export abstract class NormBase extends Module<NormConfig> {
  weight?: Param;
  bias?: Param;
  running_mean?: Buffer;
  running_var?: Buffer;
  /** int32 here (PyTorch stores int64; tfjs has no int64); converters cast. */
  num_batches_tracked?: Buffer;

  constructor(name: string, options: NormOptions, defaults: Omit<NormConfig, 'numFeatures'>) {
    const config = { ...defaults, ...options };
    if (!Number.isInteger(config.numFeatures) || config.numFeatures < 1) {
      throw new Error(
        `${name}: expected numFeatures to be a positive integer, received ${config.numFeatures}`,
      );
    }
    if (typeof config.eps !== 'number' || !(config.eps >= 0)) {
      throw new Error(`${name}: expected eps to be a number >= 0, received ${config.eps}`);
    }
    if (
      config.momentum !== null &&
      (typeof config.momentum !== 'number' || !(config.momentum >= 0 && config.momentum <= 1))
    ) {
      throw new Error(
        `${name}: expected momentum to be a number in [0, 1] or null, received ${config.momentum}`,
      );
    }
    super(config);
    const c = config.numFeatures;
    if (config.affine) {
      this.weight = new Param(tf.ones([c]), 'vector');
      this.bias = new Param(tf.zeros([c]), 'vector');
    }
    if (config.trackRunningStats) {
      this.running_mean = new Buffer(tf.zeros([c]));
      this.running_var = new Buffer(tf.ones([c]));
      this.num_batches_tracked = new Buffer(tf.scalar(0, 'int32'));
    }
  }

  /** Whether this forward normalizes with the input's own statistics (else running ones). */
  protected get usesInputStatistics(): boolean {
    return !this.config.trackRunningStats || (this.training && !this.frozen);
  }

  /** Whether this forward updates the running statistics (train mode, not frozen). */
  protected get updatesRunningStatistics(): boolean {
    return this.config.trackRunningStats && this.training && !this.frozen;
  }

  /**
   * running = (1 - factor) * running + factor * batch, as PyTorch; `mean` and `unbiasedVariance`
   * are `[C]`. With momentum null the factor is 1 / num_batches_tracked, read on the device.
   */
  protected updateRunningStatistics(
    mean: tf.Tensor,
    unbiasedVariance: tf.Tensor,
    countBatch: boolean,
  ): void {
    tf.tidy(() => {
      const tracked = this.num_batches_tracked!.variable;
      if (countBatch) tracked.assign(tf.add(tracked, tf.scalar(1, 'int32')));
      const factor: tf.Tensor | number =
        this.config.momentum === null
          ? tf.div(1, tf.cast(tracked, 'float32'))
          : this.config.momentum;
      const keep = typeof factor === 'number' ? 1 - factor : tf.sub(1, factor);
      for (const [buffer, batch] of [
        [this.running_mean!, mean],
        [this.running_var!, unbiasedVariance],
      ] as const) {
        buffer.variable.assign(tf.add(tf.mul(batch, factor), tf.mul(buffer.variable, keep)));
      }
    });
  }

  /** Inference with the running statistics: (x - mean) / sqrt(var + eps) * weight + bias. */
  protected normalizeWithRunningStatistics(x: tf.Tensor): tf.Tensor {
    return batchNorm(
      x,
      this.running_mean!.variable,
      this.running_var!.variable,
      this.weight?.variable,
      this.bias?.variable,
      this.config.eps,
    );
  }

  /**
   * Normalize over `axes` with the input's statistics; in train mode (not frozen) also update
   * the running statistics from them (variance unbiased, as PyTorch). `statisticsAxes` are
   * then averaged away to get `[C]` (the batch axis for InstanceNorm, none for BatchNorm).
   */
  protected normalizeWithInputStatistics(
    x: tf.Tensor,
    axes: number[],
    countBatch: boolean,
  ): tf.Tensor {
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    if (count <= 1) {
      throw new Error(
        `${this.label}: expected more than 1 value per channel ${countBatch ? '' : 'and sample '}when normalizing with input statistics (train mode), received input shape [${x.shape}]`,
      );
    }
    if (axes.length === x.rank - 1) return this.batchNormalize(x, count, countBatch);
    return tf.tidy(() => {
      const { normalized, mean, variance } = normalize(x, axes, this.config.eps);
      if (this.updatesRunningStatistics) {
        const c = this.config.numFeatures;
        const perChannel = (t: tf.Tensor) => tf.mean(tf.reshape(t, [-1, c]), 0);
        this.updateRunningStatistics(
          perChannel(mean),
          perChannel(tf.mul(variance, count / (count - 1))),
          countBatch,
        );
      }
      return affine(normalized, this.weight?.variable, this.bias?.variable);
    });
  }

  /**
   * Statistics over every axis but the channels (BatchNorm): @convkit/backend's one-op
   * `batchNormTraining` (closed-form gradient; fused kernels on wasm).
   */
  private batchNormalize(x: tf.Tensor, count: number, countBatch: boolean): tf.Tensor {
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        this.weight?.variable,
        this.bias?.variable,
        this.config.eps,
      );
      if (this.updatesRunningStatistics) {
        this.updateRunningStatistics(mean, tf.mul(variance, count / (count - 1)), countBatch);
      }
      return y;
    });
  }

  outputShape(input: Shape): Shape {
    this.checkShape(input);
    return [...input];
  }

  /** Throw, naming the layer, unless `input` has an accepted rank and C channels last. */
  protected abstract checkShape(input: Shape): void;

  /** Throw unless the rank is one of `ranks` and the last axis is numFeatures. */
  protected checkRankAndChannels(input: Shape, ranks: number[], layout: string): void {
    const c = this.config.numFeatures;
    if (!ranks.includes(input.length) || input.at(-1) !== c) {
      throw new Error(
        `${this.label}: expected input of shape ${layout.replaceAll('C', String(c))}, received shape [${input}]`,
      );
    }
  }
}
