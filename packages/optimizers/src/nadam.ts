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

export interface NAdamOptions extends BaseOptimizerOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Momentum schedule decay ψ (default 4e-3). */
  momentumDecay: number;
}

/**
 * NAdam, Adam with Nesterov momentum (PyTorch 1.13 `torch.optim.NAdam`):
 *
 * ```
 * g = ∇f(θ) + weightDecay·θ
 * μ_t = β1·(1 − 0.5·0.96^(t·ψ)),  μ_{t+1} = β1·(1 − 0.5·0.96^((t+1)·ψ)),  Π_t = Π_{t−1}·μ_t
 * m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;  d = √(v / (1 − β2^t)) + eps
 * θ = θ − lr·(1 − μ_t)/(1 − Π_t) · g / d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m / d
 * ```
 *
 * The product Π is kept in float32, as PyTorch keeps it in a float32 tensor.
 * Defaults: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0, momentumDecay 4e-3.
 */
export class NAdam extends Optimizer<NAdamOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<NAdamOptions>[],
    options?: Partial<NAdamOptions>,
  ) {
    super(
      'NAdam',
      params,
      options,
      {
        lr: 2e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        momentumDecay: 4e-3,
      },
      {
        lr: nonNegative,
        betas,
        eps: nonNegative,
        weightDecay: nonNegative,
        momentumDecay: nonNegative,
      },
    );
  }

  protected override initialState(param: tf.Variable): Record<string, tf.Tensor> {
    return { expAvg: tf.zerosLike(param), expAvgSq: tf.zerosLike(param) };
  }

  protected override initialScalars(): Record<string, number> {
    return { muProduct: 1 };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<NAdamOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const t = state.step;
    const g = effectiveGrad(grad, param, group.weightDecay);
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * group.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * group.momentumDecay));
    const f = Math.fround;
    const muProduct = f(f(state.scalars.muProduct) * f(mu));
    const muProductNext = f(f(muProduct * f(mu)) * f(muNext));
    state.scalars.muProduct = muProduct;
    const { expAvg, expAvgSq } = state.tensors;
    expAvg.assign(lerpAverage(expAvg, g, beta1));
    expAvgSq.assign(squareAverage(expAvgSq, g, beta2));
    const denom = tf.add(tf.sqrt(tf.div(expAvgSq, 1 - beta2 ** t)), group.eps);
    const gradStep = (-group.lr * (1 - mu)) / (1 - muProduct);
    const avgStep = (-group.lr * muNext) / (1 - muProductNext);
    const p1 = tf.add(param, tf.mul(tf.div(g, denom), gradStep));
    param.assign(tf.add(p1, tf.mul(tf.div(expAvg, denom), avgStep)));
  }
}
