import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad } from './internal/math';
import { boolean, fail, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface AdagradOptions extends BaseOptimizerOptions {
  /** Learning-rate decay: lr_t = lr / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay: number;
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/**
 * Adagrad (PyTorch 1.13 `torch.optim.Adagrad`):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * s = s + g²                       (s starts at initialAccumulatorValue)
 * θ = θ − lr / (1 + (t − 1)·lrDecay) · g / (√s + eps)
 * ```
 *
 * `initialAccumulatorValue` is a constructor option only: PyTorch 1.13 ignores a per-group
 * value, so a group that sets a different one is rejected rather than silently ignored.
 * Defaults: lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0, eps 1e-10.
 * (tfjs's `tf.train.adagrad` uses initialAccumulatorValue 0.1 and no eps.)
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<AdagradOptions>[],
    options?: Partial<AdagradOptions>,
  ) {
    super(
      'Adagrad',
      params,
      options,
      {
        lr: 1e-2,
        lrDecay: 0,
        weightDecay: 0,
        initialAccumulatorValue: 0,
        eps: 1e-10,
        maximize: false,
      },
      {
        lr: nonNegative,
        lrDecay: nonNegative,
        weightDecay: nonNegative,
        initialAccumulatorValue: nonNegative,
        eps: nonNegative,
        maximize: boolean,
      },
    );
  }

  protected override checkGroup(group: ParamGroup<AdagradOptions>, where: string): void {
    if (where !== '' && group.initialAccumulatorValue !== this.defaults.initialAccumulatorValue) {
      fail(
        'Adagrad',
        `${where}initialAccumulatorValue`,
        `the constructor's value ${this.defaults.initialAccumulatorValue} (PyTorch 1.13 fills every sum ` +
          'from the constructor option and ignores a per-group value; pass it in the options)',
        group.initialAccumulatorValue,
      );
    }
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { sum: tf.fill(param.shape, this.defaults.initialAccumulatorValue) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdagradOptions>,
    state: ParamState,
  ): void {
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    const clr = group.lr / (1 + (state.step - 1) * group.lrDecay);
    const { sum } = state.tensors;
    sum.assign(tf.add(sum, tf.square(g)));
    const std = tf.add(tf.sqrt(sum), group.eps);
    param.assign(tf.sub(param, tf.mul(tf.div(g, std), clr)));
  }
}
