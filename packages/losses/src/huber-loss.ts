import * as tf from '@tensorflow/tfjs-core';
import {
  absSignGrad,
  checkNumber,
  checkOptions,
  checkReduction,
  checkSameShape,
  checkTensor,
  reduce,
} from './internal/checks';
import type { ReductionOptions } from './mse-loss';

export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear. Default 1. */
  delta?: number;
}

/**
 * `torch.nn.functional.huber_loss`: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta);
 * equals delta x smoothL1Loss with beta = delta. Shape: target = input.
 */
export function huberLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: HuberOptions = {},
): tf.Tensor {
  const fn = 'huberLoss';
  checkOptions(fn, options, ['reduction', 'delta']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const delta = checkNumber(fn, 'delta', options.delta ?? 1, (v) => v > 0, 'a number > 0');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const a = absSignGrad(tf.sub(input, target));
    const m = tf.minimum(a, delta);
    return reduce(tf.add(tf.mul(tf.square(m), 0.5), tf.mul(tf.sub(a, m), delta)), reduction);
  });
}
