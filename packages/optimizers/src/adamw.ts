import * as tf from '@tensorflow/tfjs-core';
import { ADAM_RULES, type AdamOptions } from './adam';
import { adamState, adamStep } from './internal/adam-core';
import { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer';

/** AdamW has Adam's options; `weightDecay` is decoupled and defaults to 0.01. */
export type AdamWOptions = AdamOptions;

/**
 * AdamW (PyTorch 1.13 `torch.optim.AdamW`), decoupled weight decay:
 *
 * ```
 * θ = θ · (1 − lr·weightDecay)
 * m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;  v̂ = amsgrad ? max(v̂, v) : v
 * θ = θ − lr / (1 − β1^t) · m / (√v̂ / √(1 − β2^t) + eps)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.01, amsgrad false.
 */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<AdamWOptions>[],
    options?: Partial<AdamWOptions>,
  ) {
    super(
      'AdamW',
      params,
      options,
      {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 1e-2,
        amsgrad: false,
        maximize: false,
      },
      ADAM_RULES,
    );
  }

  protected override initialState(
    param: tf.Variable,
    group: ParamGroup<AdamWOptions>,
  ): Record<string, tf.Tensor> {
    return adamState(param, group.amsgrad);
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdamWOptions>,
    state: ParamState,
  ): void {
    if (group.weightDecay !== 0) param.assign(tf.mul(param, 1 - group.lr * group.weightDecay));
    adamStep(param, group.maximize ? tf.neg(grad) : grad, group, state.tensors, state.step);
  }
}
