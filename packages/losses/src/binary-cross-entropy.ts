import * as tf from '@tensorflow/tfjs-core';
import {
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  customGrad,
  reduce,
  weightTensor,
} from './internal/checks';
import type { Reduction } from './reduction';

export interface BinaryCrossEntropyOptions {
  /** Element weight, broadcast to the input (e.g. [C] per class). */
  weight?: tf.Tensor | ArrayLike<number>;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/** PyTorch's EPSILON in the BCE backward: the denominator x (1 - x) is at least this. */
const EPSILON = 1e-12;

/**
 * Element-wise BCE with PyTorch's forward (logs clamped to >= -100) and PyTorch's backward
 * formulas: d/dx = (x - t) / max(x (1 - x), 1e-12), d/dt = clamp(log(1 - x)) - clamp(log x).
 */
const bceElementwise = customGrad((x: tf.Tensor, t: tf.Tensor, save: tf.GradSaveFunc) => {
  const logX = tf.maximum(tf.log(x), -100);
  const log1mX = tf.maximum(tf.log(tf.sub(1, x)), -100);
  save([x, t, logX, log1mX]);
  const value = tf.neg(tf.add(tf.mul(t, logX), tf.mul(tf.sub(1, t), log1mX)));
  return {
    value,
    gradFunc: (dy: tf.Tensor, [sx, st, slx, sl1mx]: tf.Tensor[]) => [
      tf.div(tf.mul(dy, tf.sub(sx, st)), tf.maximum(tf.mul(sx, tf.sub(1, sx)), EPSILON)),
      tf.mul(dy, tf.sub(sl1mx, slx)),
    ],
  };
});

/**
 * Binary cross-entropy on probabilities, `torch.nn.functional.binary_cross_entropy`:
 * -weight (t log x + (1 - t) log(1 - x)), each log clamped to >= -100 as PyTorch does, so
 * x = 0 or 1 gives a finite loss (100). Prefer `binaryCrossEntropyWithLogits` for stability.
 * Shape: input (probabilities in [0, 1]) and target of the same shape.
 */
export function binaryCrossEntropy(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BinaryCrossEntropyOptions = {},
): tf.Tensor {
  const fn = 'binaryCrossEntropy';
  checkOptions(fn, options, ['weight', 'reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const weight = weightTensor(fn, 'weight', options.weight, input, 'broadcast');
    const loss = bceElementwise(input, target);
    return reduce(weight ? tf.mul(loss, weight) : loss, reduction);
  });
}
