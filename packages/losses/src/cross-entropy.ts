import * as tf from '@tensorflow/tfjs-core';
import {
  checkNumber,
  checkOptions,
  checkReduction,
  checkTensor,
  weightTensor,
} from './internal/checks';
import { checkClassIndexTarget, classIndexLoss } from './internal/class-targets';
import type { Reduction } from './reduction';

export interface CrossEntropyOptions {
  /** Per-class weight, shape [C]. */
  weight?: tf.Tensor | ArrayLike<number>;
  /** Class-index targets equal to this contribute nothing. Default -100. */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Mix the target with the uniform distribution: (1 - eps) target + eps / C. Default 0. */
  labelSmoothing?: number;
  /** Check class-index targets on the CPU (one small read-back). Default true. */
  validateTargets?: boolean;
}

/**
 * Cross-entropy from logits, `torch.nn.functional.cross_entropy`, with the class axis LAST
 * (convkit is channels-last). Computed as NLL of a stable log-softmax, so logits of +-100
 * are fine.
 *
 * Shape: input [N, C] or [N, ...spatial, C] (e.g. NHWC [N, H, W, C]); target either
 * - class indices [N] / [N, ...spatial] (int32 or integer-valued float32): 'mean' is the
 *   weighted mean over non-ignored targets, sum_i loss_i / sum_i weight[y_i], as PyTorch;
 * - class probabilities of the input's shape (float32): 'mean' divides by N x spatial, and
 *   `ignoreIndex` does not apply.
 * Output: a scalar, or for 'none' the target's shape without the class axis.
 */
export function crossEntropy(
  input: tf.Tensor,
  target: tf.Tensor,
  options: CrossEntropyOptions = {},
): tf.Tensor {
  const fn = 'crossEntropy';
  checkOptions(fn, options, [
    'weight',
    'ignoreIndex',
    'reduction',
    'labelSmoothing',
    'validateTargets',
  ]);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const ignoreIndex = checkNumber(
    fn,
    'ignoreIndex',
    options.ignoreIndex ?? -100,
    Number.isInteger,
    'an integer',
  );
  const eps = checkNumber(
    fn,
    'labelSmoothing',
    options.labelSmoothing ?? 0,
    (v) => v >= 0 && v <= 1,
    'a number in [0, 1]',
  );
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target, false);
  if (input.rank < 1)
    throw new Error(`${fn}: expected input of rank >= 1 (classes last), received a scalar`);
  const probabilities =
    target.dtype === 'float32' && tf.util.arraysEqual(target.shape, input.shape);
  if (!probabilities)
    checkClassIndexTarget(fn, input, target, ignoreIndex, options.validateTargets ?? true);
  return tf.tidy(() => {
    const weight = weightTensor(fn, 'weight', options.weight, input, 'class');
    const logp = tf.logSoftmax(input, -1);
    if (!probabilities) return classIndexLoss(logp, target, weight, ignoreIndex, eps, reduction);
    const classes = input.shape[input.rank - 1];
    let t = eps > 0 ? tf.add(tf.mul(target, 1 - eps), eps / classes) : target;
    if (weight) t = tf.mul(t, weight);
    const loss = tf.neg(tf.sum(tf.mul(logp, t), -1));
    return reduction === 'none' ? loss : reduction === 'sum' ? tf.sum(loss) : tf.mean(loss);
  });
}
