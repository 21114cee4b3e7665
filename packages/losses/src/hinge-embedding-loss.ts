import * as tf from '@tensorflow/tfjs-core';
import {
  checkNumber,
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  reduce,
} from './internal/checks';
import type { Reduction } from './reduction';

export interface HingeEmbeddingOptions {
  /** Default 1. */
  margin?: number;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/**
 * `torch.nn.functional.hinge_embedding_loss`: x where target = 1, max(0, margin - x) where
 * target = -1 (a value other than +-1 gets both terms, as in PyTorch).
 * Shape: input (e.g. distances) and target (+-1) of the same shape.
 */
export function hingeEmbeddingLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: HingeEmbeddingOptions = {},
): tf.Tensor {
  const fn = 'hingeEmbeddingLoss';
  checkOptions(fn, options, ['margin', 'reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const margin = checkNumber(fn, 'margin', options.margin ?? 1);
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target, false);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const t = tf.cast(target, 'float32');
    const notPositive = tf.cast(tf.notEqual(t, 1), 'float32');
    const notNegative = tf.cast(tf.notEqual(t, -1), 'float32');
    const hinge = tf.maximum(tf.sub(margin, input), 0);
    return reduce(tf.add(tf.mul(notPositive, hinge), tf.mul(notNegative, input)), reduction);
  });
}
