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

export interface NllLossOptions {
  /** Per-class weight, shape [C]. */
  weight?: tf.Tensor | ArrayLike<number>;
  /** Targets equal to this contribute nothing (and are left out of the mean). Default -100. */
  ignoreIndex?: number;
  /** 'mean' (default): weighted mean over non-ignored targets; 'sum'; 'none'. */
  reduction?: Reduction;
  /**
   * Check on the CPU that every target is an integer in [0, C) or ignoreIndex (one small
   * read-back of the target). Default true; a training loop may turn it off.
   */
  validateTargets?: boolean;
}

/**
 * Negative log-likelihood, `torch.nn.functional.nll_loss`, over the LAST axis:
 * loss_i = -weight[y_i] input[i, y_i].
 *
 * Shape: input [N, C] or channels-last [N, ...spatial, C] (log-probabilities); target
 * [N] / [N, ...spatial] of class indices (int32, or float32 holding integers).
 */
export function nllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: NllLossOptions = {},
): tf.Tensor {
  const fn = 'nllLoss';
  checkOptions(fn, options, ['weight', 'ignoreIndex', 'reduction', 'validateTargets']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean');
  const ignoreIndex = checkNumber(
    fn,
    'ignoreIndex',
    options.ignoreIndex ?? -100,
    Number.isInteger,
    'an integer',
  );
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target, false);
  if (input.rank < 1)
    throw new Error(`${fn}: expected input of rank >= 1 (classes last), received a scalar`);
  checkClassIndexTarget(fn, input, target, ignoreIndex, options.validateTargets ?? true);
  return tf.tidy(() => {
    const weight = weightTensor(fn, 'weight', options.weight, input, 'class');
    return classIndexLoss(input, target, weight, ignoreIndex, 0, reduction);
  });
}
