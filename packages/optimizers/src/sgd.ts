import * as tf from '@tensorflow/tfjs-core';
import { addScaled, effectiveGrad } from './internal/math';
import { boolean, fail, nonNegative, type Rule } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface SGDOptions extends BaseOptimizerOptions {
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

const requiredLr: Rule = (v) =>
  typeof v === 'number' && v >= 0
    ? null
    : {
        path: '',
        expected: v === undefined ? 'given (SGD has no default lr, as in PyTorch)' : '>= 0',
        received: v,
      };

const RULES = {
  lr: requiredLr,
  momentum: nonNegative,
  dampening: (v: unknown) =>
    typeof v === 'number' && !Number.isNaN(v)
      ? null
      : { path: '', expected: 'a number', received: v },
  weightDecay: nonNegative,
  nesterov: boolean,
  maximize: boolean,
};

/**
 * Stochastic gradient descent with momentum (PyTorch 1.13 `torch.optim.SGD`):
 *
 * ```
 * g = ∇f(θ) (negated when maximize) + weightDecay·θ
 * b = g                                 on the first step
 * b = momentum·b + (1 − dampening)·g    afterwards
 * g = nesterov ? g + momentum·b : b     (when momentum ≠ 0)
 * θ = θ − lr·g
 * ```
 *
 * Defaults: no default lr (required), momentum 0, dampening 0, weightDecay 0, nesterov false.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: tf.Variable[] | ParamGroupSpec<SGDOptions>[], options?: Partial<SGDOptions>) {
    super(
      'SGD',
      params,
      options,
      {
        lr: undefined as unknown as number,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
      },
      RULES,
    );
  }

  protected override checkGroup(group: ParamGroup<SGDOptions>, where: string): void {
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      fail(
        'SGD',
        `${where}nesterov`,
        'used with momentum > 0 and dampening 0',
        `momentum ${group.momentum}, dampening ${group.dampening}`,
      );
    }
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<SGDOptions>,
    state: ParamState,
  ): void {
    let d = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    if (group.momentum !== 0) {
      const buffer = state.tensors.momentumBuffer;
      if (buffer === undefined) {
        state.tensors.momentumBuffer = tf.variable(d, false);
      } else {
        buffer.assign(addScaled(tf.mul(buffer, group.momentum), d, 1 - group.dampening));
      }
      const b = state.tensors.momentumBuffer;
      d = group.nesterov ? addScaled(d, b, group.momentum) : b;
    }
    param.assign(addScaled(param, d, -group.lr));
  }
}
