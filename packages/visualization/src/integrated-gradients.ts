import type { Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifierInput,
  checkTarget,
  positiveInteger,
  shapeText,
  targetMask,
  targetScore,
} from './internal/checks';
import type { Target } from './target';

export interface IntegratedGradientsOptions {
  /** Class index per sample (or one for all); default the predicted class. */
  target?: Target;
  /** The reference input: a tensor of the input's shape, or one value for every pixel. Default 0. */
  baseline?: tf.Tensor | number;
  /** Points of the Riemann sum along the straight path. Default 50. */
  steps?: number;
  /** Path points differentiated in one batch (times N images). Default 8. */
  stepsPerBatch?: number;
}

export interface IntegratedGradientsResult {
  /** (x - baseline) * mean_k grad(baseline + alpha_k (x - baseline)): `[N, H, W, C]`. */
  attribution: tf.Tensor4D;
  /** max over channels of |attribution|: `[N, H, W]`. */
  map: tf.Tensor3D;
  /**
   * Completeness error per sample: sum(attribution) - (score(x) - score(baseline)), which the
   * exact integral makes 0; it shrinks as `steps` grows: `[N]`.
   */
  completenessError: tf.Tensor1D;
}

/**
 * Integrated gradients (Sundararajan, Taly & Yan 2017) by the midpoint Riemann sum,
 * alpha_k = (k + 0.5) / steps. Batches of `stepsPerBatch` path points go through the model at
 * once (run it in `eval()` mode). Leaves no tensors but the returned ones.
 *
 * Shape: input `[N, H, W, C]` -> attribution `[N, H, W, C]`, map `[N, H, W]`, error `[N]`.
 */
export function integratedGradients(
  model: Module,
  input: tf.Tensor,
  options: IntegratedGradientsOptions = {},
): IntegratedGradientsResult {
  const fn = 'integratedGradients';
  const { numClasses } = checkClassifierInput(fn, model, input);
  const n = input.shape[0];
  checkTarget(fn, options.target, n, numClasses);
  const steps = positiveInteger(fn, 'steps', options.steps ?? 50);
  const perBatch = positiveInteger(fn, 'stepsPerBatch', options.stepsPerBatch ?? 8);
  const { baseline = 0 } = options;
  if (baseline instanceof tf.Tensor && !tf.util.arraysEqual(baseline.shape, input.shape)) {
    throw new Error(
      `${fn}: option 'baseline' must have the input's shape ${shapeText(input.shape)}; received ${shapeText(baseline.shape)}`,
    );
  }
  return tf.tidy(() => {
    const logits = model.forward(input);
    const mask = targetMask(options.target, n, numClasses, () => logits);
    const base = baseline instanceof tf.Tensor ? baseline : tf.fill(input.shape, baseline);
    const delta = tf.sub(input, base);
    let sum = tf.zerosLike(input);
    for (let start = 0; start < steps; start += perBatch) {
      const count = Math.min(perBatch, steps - start);
      const next = tf.tidy(() => {
        const alphas = tf.reshape(
          tf.tensor1d(Array.from({ length: count }, (_, k) => (start + k + 0.5) / steps)),
          [count, 1, 1, 1, 1],
        );
        const path = tf.add(base, tf.mul(alphas, delta)); // [count, N, H, W, C]
        const flat = tf.reshape(path, [count * n, ...input.shape.slice(1)]);
        const masks = tf.tile(mask, [count, 1]);
        const grads = tf.grad((x: tf.Tensor) => targetScore(model.forward(x), masks))(flat);
        return tf.add(sum, tf.sum(tf.reshape(grads, [count, ...input.shape]), 0));
      });
      sum.dispose();
      sum = next;
    }
    const attribution = tf.mul(delta, tf.div(sum, steps)) as tf.Tensor4D;
    const scoreOf = (out: tf.Tensor) => tf.sum(tf.mul(out, mask), -1);
    const gap = tf.sub(scoreOf(logits), scoreOf(model.forward(base)));
    const completenessError = tf.sub(tf.sum(attribution, [1, 2, 3]), gap) as tf.Tensor1D;
    return { attribution, map: tf.max(tf.abs(attribution), -1) as tf.Tensor3D, completenessError };
  });
}
