import * as tf from '@tensorflow/tfjs-core';
import {
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  reduce,
} from './internal/checks';
import type { Reduction } from './reduction';

export interface ReductionOptions {
  /** 'mean' (default) over all elements, 'sum', or 'none' (element-wise, the input's shape). */
  reduction?: Reduction;
}

/**
 * Mean squared error, `torch.nn.functional.mse_loss`: (input - target)^2, reduced.
 * Differentiable w.r.t. input and target. Shape: target = input (any shape).
 */
export function mseLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: ReductionOptions = {},
): tf.Tensor {
  const fn = 'mseLoss';
  checkOptions(fn, options, ['reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => reduce(tf.square(tf.sub(input, target)), reduction));
}
