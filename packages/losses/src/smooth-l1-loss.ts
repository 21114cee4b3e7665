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

export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear. Default 1; 0 gives the L1 loss. */
  beta?: number;
}

/**
 * `torch.nn.functional.smooth_l1_loss`: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta,
 * with d = input - target. Shape: target = input.
 */
export function smoothL1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: SmoothL1Options = {},
): tf.Tensor {
  const fn = 'smoothL1Loss';
  checkOptions(fn, options, ['reduction', 'beta']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const beta = checkNumber(fn, 'beta', options.beta ?? 1, (v) => v >= 0, 'a number >= 0');
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    const a = absSignGrad(tf.sub(input, target));
    if (beta === 0) return reduce(a, reduction);
    // m = min(|d|, beta): 0.5 m^2 / beta + (|d| - m) is both branches without a comparison.
    const m = tf.minimum(a, beta);
    return reduce(tf.add(tf.mul(tf.square(m), 0.5 / beta), tf.sub(a, m)), reduction);
  });
}
