import * as tf from '@tensorflow/tfjs-core';
import { boolean, nonNegative, type Rule } from './internal/validate';
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';

export interface RpropOptions extends BaseOptimizerOptions {
  /** `[etaminus, etaplus]`: step-size factors on a sign change / no change (default [0.5, 1.2]). */
  etas: [number, number];
  /** `[min, max]` bounds of every per-element step size (default [1e-6, 50]). */
  stepSizes: [number, number];
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** `[etaminus, etaplus]` with 0 < etaminus < 1 < etaplus (PyTorch's check). */
const etasRule: Rule = (v) =>
  Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1])
    ? v[0] > 0 && v[0] < 1 && v[1] > 1
      ? null
      : { path: '', expected: '[etaminus, etaplus] with 0 < etaminus < 1 < etaplus', received: v }
    : { path: '', expected: 'a pair [etaminus, etaplus]', received: v };

/** `[min, max]` with 0 <= min <= max. */
const stepSizesRule: Rule = (v) =>
  Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1])
    ? v[0] >= 0 && v[0] <= v[1]
      ? null
      : { path: '', expected: '[min, max] with 0 <= min <= max', received: v }
    : { path: '', expected: 'a pair [min, max]', received: v };

/**
 * Resilient backpropagation (PyTorch 1.13 `torch.optim.Rprop`): only the sign of the gradient
 * is used, each element has its own step size (starting at `lr`).
 *
 * ```
 * s = sign(g · g_prev)
 * step = clamp(step · (s > 0 ? etaplus : s < 0 ? etaminus : 1), min, max)
 * g = s < 0 ? 0 : g             (after a sign change the element pauses one step)
 * θ = θ − sign(g) · step;  g_prev = g
 * ```
 *
 * Meant for full-batch training. Defaults: lr 1e-2, etas [0.5, 1.2], stepSizes [1e-6, 50].
 * tfjs has no Rprop.
 */
export class Rprop extends Optimizer<RpropOptions> {
  constructor(
    params: tf.Variable[] | ParamGroupSpec<RpropOptions>[],
    options?: Partial<RpropOptions>,
  ) {
    super(
      'Rprop',
      params,
      options,
      { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false },
      { lr: nonNegative, etas: etasRule, stepSizes: stepSizesRule, maximize: boolean },
    );
  }

  protected override initialState(
    param: tf.Variable,
    group: ParamGroup<RpropOptions>,
  ): Record<string, tf.Tensor> {
    return { prev: tf.zerosLike(param), stepSize: tf.fill(param.shape, group.lr) };
  }

  protected updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<RpropOptions>,
    state: ParamState,
  ): void {
    const [etaminus, etaplus] = group.etas;
    const [minStep, maxStep] = group.stepSizes;
    const { prev, stepSize } = state.tensors;
    const g = group.maximize ? tf.neg(grad) : grad;
    const sign = tf.sign(tf.mul(g, prev));
    const flipped = tf.less(sign, 0);
    const factor = tf.where(
      tf.greater(sign, 0),
      tf.fill(g.shape, etaplus),
      tf.where(flipped, tf.fill(g.shape, etaminus), tf.onesLike(g)),
    );
    stepSize.assign(tf.clipByValue(tf.mul(stepSize, factor), minStep, maxStep));
    const kept = tf.where(flipped, tf.zerosLike(g), g);
    param.assign(tf.sub(param, tf.mul(tf.sign(kept), stepSize)));
    prev.assign(kept);
  }
}
