import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogitsElementwise } from './internal/bce-with-logits';
import {
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  weightTensor,
} from './internal/checks';
import type { Reduction } from './reduction';

export interface MultiLabelSoftMarginOptions {
  /** Per-class weight, shape [C]. */
  weight?: tf.Tensor | ArrayLike<number>;
  /** 'mean' (default) over samples, 'sum', or 'none' (one value per sample). */
  reduction?: Reduction;
}

/**
 * `torch.nn.functional.multilabel_soft_margin_loss`: per sample, the mean over the C classes
 * of -w_c (t log sigmoid(x) + (1 - t) log sigmoid(-x)).
 * Shape: input (logits) [N, C] or [C], target (0/1) of the same shape; 'none' gives [N].
 */
export function multiLabelSoftMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: MultiLabelSoftMarginOptions = {},
): tf.Tensor {
  const fn = 'multiLabelSoftMarginLoss';
  checkOptions(fn, options, ['weight', 'reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  if (input.rank < 1 || input.rank > 2) {
    throw new Error(
      `${fn}: expected input of shape [N, C] or [C], received [${input.shape.join(', ')}]`,
    );
  }
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const weight = weightTensor(fn, 'weight', options.weight, input, 'class');
    let loss = bceWithLogitsElementwise(input, target, null);
    if (weight) loss = tf.mul(loss, weight);
    const perSample = tf.mean(loss, -1);
    return reduction === 'none'
      ? perSample
      : reduction === 'sum'
        ? tf.sum(perSample)
        : tf.mean(perSample);
  });
}
