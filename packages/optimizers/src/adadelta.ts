import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad, squareAverage } from './internal/math';
import { boolean, nonNegative, unitClosed } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface AdadeltaOptions extends BaseOptimizerOptions {
  /** Decay of the running averages (default 0.9). */
  rho: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * Adadelta (PyTorch 1.13 `torch.optim.Adadelta`):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * s = ρ·s + (1 − ρ)·g²
 * δ = √(u + eps) / √(s + eps) · g
 * u = ρ·u + (1 − ρ)·δ²
 * θ = θ − lr·δ
 * ```
 *
 * Defaults: lr 1.0, rho 0.9, eps 1e-6, weightDecay 0. (tfjs's `tf.train.adadelta`: rho 0.95.)
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<AdadeltaOptions>[],
    options?: Partial<AdadeltaOptions>,
  ) {
    super(
      'Adadelta',
      params,
      options,
      { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
      {
        lr: nonNegative,
        rho: unitClosed,
        eps: nonNegative,
        weightDecay: nonNegative,
        maximize: boolean,
      },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { squareAvg: tf.zerosLike(param), accDelta: tf.zerosLike(param) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdadeltaOptions>,
    state: ParamState,
  ): void {
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    const { squareAvg, accDelta } = state.tensors;
    squareAvg.assign(squareAverage(squareAvg, g, group.rho));
    const std = tf.sqrt(tf.add(squareAvg, group.eps));
    const delta = tf.mul(tf.div(tf.sqrt(tf.add(accDelta, group.eps)), std), g);
    accDelta.assign(squareAverage(accDelta, delta, group.rho));
    param.assign(tf.sub(param, tf.mul(delta, group.lr)));
  }
}
