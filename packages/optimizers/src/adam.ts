import type * as tf from '@tensorflow/tfjs-core';
import { type AdamCoreOptions, adamState, adamStep } from './internal/adam-core';
import { effectiveGrad } from './internal/math';
import { betas, boolean, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface AdamOptions extends BaseOptimizerOptions, AdamCoreOptions {
  /** L2 penalty added to the gradient (default 0); see AdamW for decoupled decay. */
  weightDecay: number;
  maximize: boolean;
}

export const ADAM_RULES = {
  lr: nonNegative,
  betas,
  eps: nonNegative,
  weightDecay: nonNegative,
  amsgrad: boolean,
  maximize: boolean,
};

/**
 * Adam (PyTorch 1.13 `torch.optim.Adam`), weight decay as an L2 term on the gradient:
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * m = β1·m + (1 − β1)·g
 * v = β2·v + (1 − β2)·g²
 * v̂ = amsgrad ? max(v̂, v) : v
 * θ = θ − lr / (1 − β1^t) · m / (√v̂ / √(1 − β2^t) + eps)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, amsgrad false.
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<AdamOptions>[],
    options?: Partial<AdamOptions>,
  ) {
    super(
      'Adam',
      params,
      options,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
      },
      ADAM_RULES,
    );
  }

  protected override initialState(
    param: tf.Variable,
    group: ParamGroup<AdamOptions>,
  ): Record<string, tf.Tensor> {
    return adamState(param, group.amsgrad);
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdamOptions>,
    state: ParamState,
  ): void {
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    adamStep(param, g, group, state.tensors, state.step);
  }
}
