import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from '../reduction';
import { checkClassTargets, fmt } from './checks';

/**
 * Weighted negative log-likelihood of class-index targets over the LAST axis of `logp`, with
 * PyTorch's ignore_index and label-smoothing rules:
 *   loss_i = (1 - eps) w[y_i] (-logp[i, y_i]) + eps / C sum_c w_c (-logp[i, c]), 0 if ignored;
 *   'mean' divides the sum by sum_i w[y_i] over non-ignored i (NaN when all are ignored).
 * The one-hot mask is built from the target only, so nothing on the differentiated path is a
 * comparison.
 */
export function classIndexLoss(
  logp: tf.Tensor,
  target: tf.Tensor,
  weight: tf.Tensor | null,
  ignoreIndex: number,
  labelSmoothing: number,
  reduction: Reduction,
): tf.Tensor {
  const classes = logp.shape[logp.rank - 1];
  const valid = tf.notEqual(target, tf.scalar(ignoreIndex, target.dtype));
  const safe = tf.where(valid, tf.cast(target, 'int32'), tf.zeros(target.shape, 'int32'));
  const validF = tf.expandDims(tf.cast(valid, 'float32'), -1);
  let picked = tf.mul(tf.cast(tf.oneHot(safe, classes), 'float32'), validF);
  if (weight) picked = tf.mul(picked, weight);
  let loss = tf.neg(tf.sum(tf.mul(logp, picked), -1));
  if (labelSmoothing > 0) {
    const all = weight ? tf.mul(logp, weight) : logp;
    const smooth = tf.mul(tf.neg(tf.sum(all, -1)), tf.squeeze(validF, [-1]));
    loss = tf.add(tf.mul(loss, 1 - labelSmoothing), tf.mul(smooth, labelSmoothing / classes));
  }
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return tf.sum(loss);
  return tf.div(tf.sum(loss), tf.sum(picked));
}

/** Shape and value checks shared by crossEntropy / nllLoss with class-index targets. */
export function checkClassIndexTarget(
  fn: string,
  input: tf.Tensor,
  target: tf.Tensor,
  ignoreIndex: number | null,
  validate: boolean,
): void {
  const expected = input.shape.slice(0, -1);
  if (!tf.util.arraysEqual(target.shape, expected)) {
    throw new Error(
      `${fn}: target shape ${fmt(target.shape)} does not match input shape ${fmt(input.shape)} (expected ${fmt(expected)})`,
    );
  }
  if (validate) checkClassTargets(fn, target, input.shape[input.rank - 1], ignoreIndex);
}
