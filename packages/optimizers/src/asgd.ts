import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad } from './internal/math';
import { boolean, nonNegative, type Rule } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface ASGDOptions extends BaseOptimizerOptions {
  /** Decay term (default 1e-4). */
  lambd: number;
  /** Power of the eta update (default 0.75). */
  alpha: number;
  /** Step at which averaging starts (default 1e6). */
  t0: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

const finite: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v)
    ? null
    : { path: '', expected: 'a finite number', received: v };

/**
 * Averaged stochastic gradient descent (PyTorch 1.13 `torch.optim.ASGD`), per variable:
 *
 * ```
 * g = ∇f(θ) (negated when maximize) + weightDecay·θ
 * θ = θ·(1 − lambd·η) − η·g
 * ax = μ == 1 ? θ : ax + μ·(θ − ax)          (the averaged iterate)
 * η = lr / (1 + lambd·lr·t)^alpha;  μ = 1 / max(1, t − t0)
 * ```
 *
 * η starts at lr and μ at 1; both are kept in float32 as PyTorch keeps them (0-d tensors). The
 * averaged parameters are the state tensor `ax`: `optimizer.stateFor(variable).tensors.ax`
 * (evaluate with them, as PyTorch users copy `state['ax']`).
 * Defaults: lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6, weightDecay 0. tfjs has no ASGD.
 */
export class ASGD extends Optimizer<ASGDOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<ASGDOptions>[],
    options?: Partial<ASGDOptions>,
  ) {
    super(
      'ASGD',
      params,
      options,
      { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0, maximize: false },
      {
        lr: nonNegative,
        lambd: nonNegative,
        alpha: finite,
        t0: nonNegative,
        weightDecay: nonNegative,
        maximize: boolean,
      },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { ax: tf.zerosLike(param) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<ASGDOptions>,
    state: ParamState,
  ): void {
    const s = state.scalars;
    s.eta ??= Math.fround(group.lr);
    s.mu ??= 1;
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    const decayed = tf.mul(param, 1 - group.lambd * s.eta);
    const next = tf.sub(decayed, tf.mul(g, s.eta));
    param.assign(next);
    const { ax } = state.tensors;
    ax.assign(s.mu !== 1 ? tf.add(ax, tf.mul(tf.sub(next, ax), s.mu)) : next);
    const t = state.step;
    s.eta = Math.fround(group.lr / (1 + group.lambd * group.lr * t) ** group.alpha);
    s.mu = Math.fround(1 / Math.max(1, t - group.t0));
  }
}
