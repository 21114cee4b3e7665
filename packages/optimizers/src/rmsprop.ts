import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad, lerpAverage, squareAverage } from './internal/math';
import { boolean, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface RMSpropOptions extends BaseOptimizerOptions {
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  /** Normalize by the estimated variance instead of the raw second moment (default false). */
  centered: boolean;
  maximize: boolean;
}

/**
 * RMSprop (PyTorch 1.13 `torch.optim.RMSprop`; note eps is added outside the square root):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * s = α·s + (1 − α)·g²
 * a = centered ? √(s − ḡ²) + eps  (ḡ = α·ḡ + (1 − α)·g)  :  √s + eps
 * momentum > 0:  b = momentum·b + g / a;  θ = θ − lr·b
 * otherwise:     θ = θ − lr·g / a
 * ```
 *
 * Defaults: lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false.
 * (tfjs's `tf.train.rmsprop` differs: rho 0.9, eps 1e-10 inside the root.)
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<RMSpropOptions>[],
    options?: Partial<RMSpropOptions>,
  ) {
    super(
      'RMSprop',
      params,
      options,
      {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
      },
      {
        lr: nonNegative,
        alpha: nonNegative,
        eps: nonNegative,
        weightDecay: nonNegative,
        momentum: nonNegative,
        centered: boolean,
        maximize: boolean,
      },
    );
  }

  protected override initialState(
    param: tf.Variable,
    group: ParamGroup<RMSpropOptions>,
  ): Record<string, tf.Tensor> {
    const state: Record<string, tf.Tensor> = { squareAvg: tf.zerosLike(param) };
    if (group.momentum > 0) state.momentumBuffer = tf.zerosLike(param);
    if (group.centered) state.gradAvg = tf.zerosLike(param);
    return state;
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<RMSpropOptions>,
    state: ParamState,
  ): void {
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    const t = state.tensors;
    t.squareAvg.assign(squareAverage(t.squareAvg, g, group.alpha));
    let avg: tf.Tensor;
    if (group.centered) {
      t.gradAvg ??= tf.variable(tf.zerosLike(param), false);
      t.gradAvg.assign(lerpAverage(t.gradAvg, g, group.alpha));
      avg = tf.sqrt(tf.sub(t.squareAvg, tf.square(t.gradAvg)));
    } else {
      avg = tf.sqrt(t.squareAvg);
    }
    avg = tf.add(avg, group.eps);
    if (group.momentum > 0) {
      t.momentumBuffer ??= tf.variable(tf.zerosLike(param), false);
      t.momentumBuffer.assign(tf.add(tf.mul(t.momentumBuffer, group.momentum), tf.div(g, avg)));
      param.assign(tf.sub(param, tf.mul(t.momentumBuffer, group.lr)));
    } else {
      param.assign(tf.sub(param, tf.mul(tf.div(g, avg), group.lr)));
    }
  }
}
