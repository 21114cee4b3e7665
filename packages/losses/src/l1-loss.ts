import * as tf from '@tensorflow/tfjs-core';
import {
  absSignGrad,
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  reduce,
} from './internal/checks';
import type { ReductionOptions } from './mse-loss';

/**
 * Mean absolute error, `torch.nn.functional.l1_loss`: |input - target|, reduced. The gradient
 * at input = target is 0, as in PyTorch. Shape: target = input.
 */
export function l1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: ReductionOptions = {},
): tf.Tensor {
  const fn = 'l1Loss';
  checkOptions(fn, options, ['reduction']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => reduce(absSignGrad(tf.sub(input, target)), reduction));
}
