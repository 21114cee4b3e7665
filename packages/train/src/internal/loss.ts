import * as losses from '@convkit/losses';
import * as tf from '@tensorflow/tfjs-core';
import { type LossName, lossByName } from '../loss-name';
import type { LossFunction } from '../types';

/** Losses over class-index targets, whose targets are checked with a read-back on the first batch. */
const CLASS_INDEX_LOSSES: ReadonlySet<unknown> = new Set([
  losses.crossEntropy,
  losses.nllLoss,
  losses.multiMarginLoss,
]);

type ClassIndexLoss = (
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: { reduction?: 'none' | 'mean' | 'sum'; validateTargets?: boolean },
) => tf.Tensor;

/**
 * The loss as `fit` calls it. For class-index losses (`crossEntropy`, `nllLoss`,
 * `multiMarginLoss`) the targets are checked on the CPU (a read-back) for the first batch only;
 * later batches skip the check so that a step reads nothing back but its loss.
 */
export function resolveLoss(loss: LossFunction | LossName | undefined): LossFunction {
  const base = loss ?? 'crossEntropy';
  if (typeof base !== 'function' && typeof base !== 'string') {
    throw new Error(
      `loss: expected a loss name such as 'crossEntropy' or 'mse', or a function (prediction, target) => scalar, received ${String(base)}`,
    );
  }
  const fn = typeof base === 'string' ? lossByName(base) : base;
  if (!CLASS_INDEX_LOSSES.has(fn)) return fn;
  const classIndexLoss = fn as ClassIndexLoss;
  let checked = false;
  return (p, t, options = {}) => {
    const out = classIndexLoss(p, t, { ...options, validateTargets: !checked });
    checked = true;
    return out;
  };
}

/**
 * The batch loss, a scalar, and its weight in a mean over batches. Without class weights: the
 * loss function's own (mean) value, weighted by the batch size. With class weights: per-sample
 * losses (`reduction: 'none'`) weighted by the weight of each sample's class,
 * sum_i w[y_i] l_i / sum_i w[y_i] (PyTorch's weighted mean), weighted by sum_i w[y_i].
 */
export function batchLoss(
  lossFn: LossFunction,
  prediction: tf.Tensor,
  target: tf.Tensor,
  classWeight: tf.Tensor | null,
): { loss: tf.Scalar; weight: tf.Scalar } {
  if (!classWeight) {
    const loss = lossFn(prediction, target);
    if (loss.size !== 1) {
      throw new Error(
        `loss: expected the loss function to return a scalar, received shape [${loss.shape}]`,
      );
    }
    return { loss: tf.reshape(loss, []) as tf.Scalar, weight: tf.scalar(batchSize(target)) };
  }
  const classes = classWeight.size;
  // Checked here, before an index past the end reaches a gather (a raw GatherV2 error).
  if (prediction.shape.at(-1) !== classes) {
    throw new Error(
      `fit: expected classWeight to have ${prediction.shape.at(-1)} weights (one per class: the prediction has shape [${prediction.shape}]), received ${classes}`,
    );
  }
  const perSample = lossFn(prediction, target, { reduction: 'none' });
  const w =
    target.dtype === 'float32' && target.rank === prediction.rank
      ? tf.sum(tf.mul(target, classWeight), -1) // one-hot or probability targets
      : tf.gather(classWeight, tf.cast(target, 'int32'));
  if (!tf.util.arraysEqual(perSample.shape, w.shape)) {
    throw new Error(
      `classWeight: the loss returned shape [${perSample.shape}] with { reduction: 'none' }, expected one value per target [${w.shape}] (does the loss honour the reduction option? ${classes} class weights given)`,
    );
  }
  const total = tf.sum(w);
  return {
    loss: tf.div(tf.sum(tf.mul(perSample, w)), total) as tf.Scalar,
    weight: total as tf.Scalar,
  };
}

function batchSize(target: tf.Tensor): number {
  return target.rank === 0 ? 1 : target.shape[0];
}
