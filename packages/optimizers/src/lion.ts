import * as tf from '@tensorflow/tfjs-core';
import { lerpAverage } from './internal/math';
import { betas, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface LionOptions extends BaseOptimizerOptions {
  betas: [number, number];
  /** Decoupled weight decay (default 0). */
  weightDecay: number;
}

/**
 * Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization
 * Algorithms", Algorithm 2; not part of PyTorch 1.13):
 *
 * ```
 * c = β1·m + (1 − β1)·g
 * θ = θ·(1 − lr·weightDecay) − lr·sign(c)
 * m = β2·m + (1 − β2)·g
 * ```
 *
 * Defaults: lr 1e-4, betas [0.9, 0.99], weightDecay 0 (the paper suggests an lr 3-10x smaller
 * and a weight decay 3-10x larger than AdamW's).
 */
export class Lion extends Optimizer<LionOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<LionOptions>[],
    options?: Partial<LionOptions>,
  ) {
    super(
      'Lion',
      params,
      options,
      { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0 },
      {
        lr: nonNegative,
        betas,
        weightDecay: nonNegative,
      },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { expAvg: tf.zerosLike(param) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<LionOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const { expAvg } = state.tensors;
    const direction = tf.sign(lerpAverage(expAvg, grad, beta1));
    const decayed =
      group.weightDecay !== 0 ? tf.mul(param, 1 - group.lr * group.weightDecay) : param;
    param.assign(tf.sub(decayed, tf.mul(direction, group.lr)));
    expAvg.assign(lerpAverage(expAvg, grad, beta2));
  }
}
