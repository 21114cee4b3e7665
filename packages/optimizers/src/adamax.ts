import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad, lerpAverage } from './internal/math';
import { betas, boolean, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface AdamaxOptions extends BaseOptimizerOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * Adamax, Adam with the infinity norm (PyTorch 1.13 `torch.optim.Adamax`):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * m = β1·m + (1 − β1)·g
 * u = max(β2·u, |g| + eps)
 * θ = θ − lr / (1 − β1^t) · m / u
 * ```
 *
 * Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export class Adamax extends Optimizer<AdamaxOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<AdamaxOptions>[],
    options?: Partial<AdamaxOptions>,
  ) {
    super(
      'Adamax',
      params,
      options,
      {
        lr: 2e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        maximize: false,
      },
      { lr: nonNegative, betas, eps: nonNegative, weightDecay: nonNegative, maximize: boolean },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { expAvg: tf.zerosLike(param), expInf: tf.zerosLike(param) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdamaxOptions>,
    state: ParamState,
  ): void {
    const g = effectiveGrad(grad, param, group.weightDecay, group.maximize);
    const [beta1, beta2] = group.betas;
    const { expAvg, expInf } = state.tensors;
    expAvg.assign(lerpAverage(expAvg, g, beta1));
    expInf.assign(tf.maximum(tf.mul(expInf, beta2), tf.add(tf.abs(g), group.eps)));
    const clr = group.lr / (1 - beta1 ** state.step);
    param.assign(tf.sub(param, tf.mul(tf.div(expAvg, expInf), clr)));
  }
}
