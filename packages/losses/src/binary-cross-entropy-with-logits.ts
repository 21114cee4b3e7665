import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogitsElementwise } from './internal/bce-with-logits';
import {
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  reduce,
  weightTensor,
} from './internal/checks';
import type { Reduction } from './reduction';

export interface BinaryCrossEntropyWithLogitsOptions {
  /** Element weight, broadcast to the input. */
  weight?: tf.Tensor | ArrayLike<number>;
  /**
   * Weight of the positive term, broadcast to the input; [C] for multi-label input [N, C]
   * (the class axis is last). E.g. negatives / positives per class.
   */
  posWeight?: tf.Tensor | ArrayLike<number>;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/**
 * Sigmoid + binary cross-entropy in one stable step,
 * `torch.nn.functional.binary_cross_entropy_with_logits`:
 * -weight (posWeight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))). Exact for logits of
 * any size (x = +-100 gives 100 or 0). Differentiable w.r.t. input and target.
 * Shape: input (logits) and target (in [0, 1]) of the same shape.
 */
export function binaryCrossEntropyWithLogits(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BinaryCrossEntropyWithLogitsOptions = {},
): tf.Tensor {
  const fn = 'binaryCrossEntropyWithLogits';
  checkOptions(fn, options, ['weight', 'posWeight', 'reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const weight = weightTensor(fn, 'weight', options.weight, input, 'broadcast');
    const posWeight = weightTensor(fn, 'posWeight', options.posWeight, input, 'broadcast');
    const loss = bceWithLogitsElementwise(input, target, posWeight);
    return reduce(weight ? tf.mul(loss, weight) : loss, reduction);
  });
}
