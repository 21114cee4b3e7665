import * as tf from '@tensorflow/tfjs-core';
import {
  checkNumber,
  checkOptions,
  checkReduction,
  checkTensor,
  weightTensor,
} from './internal/checks';
import { checkClassIndexTarget } from './internal/class-targets';
import type { Reduction } from './reduction';

export interface MultiMarginOptions {
  /** 1 (default) or 2. */
  p?: 1 | 2;
  /** Default 1. */
  margin?: number;
  /** Per-class weight [C], applied with the target's class. */
  weight?: tf.Tensor | ArrayLike<number>;
  /** 'mean' (default) over samples, 'sum', or 'none' ([N]). */
  reduction?: Reduction;
  /** Check class-index targets on the CPU (one small read-back). Default true. */
  validateTargets?: boolean;
}

/**
 * Multi-class hinge loss, `torch.nn.functional.multi_margin_loss`: per sample,
 * sum over i != y of weight[y] max(0, margin - x[y] + x[i])^p, divided by C.
 * Shape: input (scores) [N, C] or [C], target class indices [N] or [].
 */
export function multiMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: MultiMarginOptions = {},
): tf.Tensor {
  const fn = 'multiMarginLoss';
  checkOptions(fn, options, ['p', 'margin', 'weight', 'reduction', 'validateTargets']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const p = options.p ?? 1;
  if (p !== 1 && p !== 2) throw new Error(`${fn}: expected p to be 1 or 2, received ${String(p)}`);
  const margin = checkNumber(fn, 'margin', options.margin ?? 1);
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target, false);
  if (input.rank < 1 || input.rank > 2) {
    throw new Error(
      `${fn}: expected input of shape [N, C] or [C], received [${input.shape.join(', ')}]`,
    );
  }
  checkClassIndexTarget(fn, input, target, null, options.validateTargets ?? true);
  return tf.tidy(() => {
    const classes = input.shape[input.rank - 1];
    const weight = weightTensor(fn, 'weight', options.weight, input, 'class');
    const oneHot = tf.cast(tf.oneHot(tf.cast(target, 'int32'), classes), 'float32');
    const xTarget = tf.sum(tf.mul(input, oneHot), -1, true);
    // relu: gradient 0 where the margin term is exactly 0, as PyTorch's `z > 0`.
    let z = tf.relu(tf.add(tf.sub(margin, xTarget), input));
    if (p === 2) z = tf.square(z);
    z = tf.mul(z, tf.sub(1, oneHot));
    let perSample = tf.div(tf.sum(z, -1), classes);
    if (weight) perSample = tf.mul(perSample, tf.sum(tf.mul(oneHot, weight), -1));
    return reduction === 'none'
      ? perSample
      : reduction === 'sum'
        ? tf.sum(perSample)
        : tf.mean(perSample);
  });
}
