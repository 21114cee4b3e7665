import * as tf from '@tensorflow/tfjs-core';
import { effectiveGrad, lerpAverage, squareAverage } from './internal/math';
import { betas, nonNegative } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface RAdamOptions extends BaseOptimizerOptions {
  betas: [number, number];
  eps: number;
  /** L2 penalty added to the gradient (default 0; PyTorch 1.13 has no decoupled variant). */
  weightDecay: number;
}

/**
 * RAdam, rectified Adam (PyTorch 1.13 `torch.optim.RAdam`):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
 * ρ∞ = 2/(1 − β2) − 1;  ρ_t = ρ∞ − 2t·β2^t / (1 − β2^t)
 * ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
 *           θ = θ − lr · m/(1 − β1^t) · r · √(1 − β2^t) / (√v + eps)
 * else:     θ = θ − lr · m/(1 − β1^t)
 * ```
 *
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export class RAdam extends Optimizer<RAdamOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<RAdamOptions>[],
    options?: Partial<RAdamOptions>,
  ) {
    super(
      'RAdam',
      params,
      options,
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
      {
        lr: nonNegative,
        betas,
        eps: nonNegative,
        weightDecay: nonNegative,
      },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { expAvg: tf.zerosLike(param), expAvgSq: tf.zerosLike(param) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<RAdamOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const t = state.step;
    const bias1 = 1 - beta1 ** t;
    const bias2 = 1 - beta2 ** t;
    const g = effectiveGrad(grad, param, group.weightDecay);
    const { expAvg, expAvgSq } = state.tensors;
    expAvg.assign(lerpAverage(expAvg, g, beta1));
    expAvgSq.assign(squareAverage(expAvgSq, g, beta2));
    const corrected = tf.div(expAvg, bias1);
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / bias2;
    if (rhoT > 5) {
      const rect = Math.sqrt(
        ((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT),
      );
      const adaptive = tf.div(Math.sqrt(bias2), tf.add(tf.sqrt(expAvgSq), group.eps));
      param.assign(tf.sub(param, tf.mul(tf.mul(tf.mul(corrected, group.lr), adaptive), rect)));
    } else {
      param.assign(tf.sub(param, tf.mul(corrected, group.lr)));
    }
  }
}
