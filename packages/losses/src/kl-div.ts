import * as tf from '@tensorflow/tfjs-core';
import { checkOptions, checkReduction, checkSameShape, checkTensor } from './internal/checks';

export interface KlDivOptions {
  /**
   * 'mean' (default, as PyTorch: over ALL elements, which is not the KL divergence),
   * 'batchmean' (sum / N: the KL divergence per sample, usually what you want), 'sum', 'none'.
   */
  reduction?: 'mean' | 'batchmean' | 'sum' | 'none';
  /** The target holds log-probabilities. Default false. */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence, `torch.nn.functional.kl_div`: the input holds
 * log-probabilities, the target probabilities (or log-probabilities with `logTarget`):
 * loss = target (log target - input), 0 where target = 0.
 * Differentiable w.r.t. the input, and w.r.t. the target when `logTarget` is true.
 * Shape: input and target of the same shape.
 */
export function klDiv(input: tf.Tensor, target: tf.Tensor, options: KlDivOptions = {}): tf.Tensor {
  const fn = 'klDiv';
  checkOptions(fn, options, ['reduction', 'logTarget']);
  const reduction = checkReduction(fn, options.reduction ?? 'mean', [
    'mean',
    'batchmean',
    'sum',
    'none',
  ]);
  const logTarget = options.logTarget ?? false;
  if (typeof logTarget !== 'boolean')
    throw new Error(`${fn}: expected logTarget to be a boolean, received ${String(logTarget)}`);
  checkTensor(fn, 'input', input);
  checkTensor(fn, 'target', target);
  checkSameShape(fn, input, target);
  return tf.tidy(() => {
    let loss: tf.Tensor;
    if (logTarget) {
      loss = tf.mul(tf.exp(target), tf.sub(target, input));
    } else {
      // xlogy(t, t) - t x; the mask comes from the target, which is not differentiated here.
      const positive = tf.greater(target, 0);
      const safe = tf.where(positive, target, tf.onesLike(target));
      const tLogT = tf.where(positive, tf.mul(target, tf.log(safe)), tf.zerosLike(target));
      loss = tf.sub(tLogT, tf.mul(target, input));
    }
    if (reduction === 'none') return loss;
    if (reduction === 'sum') return tf.sum(loss);
    if (reduction === 'mean') return tf.mean(loss);
    return tf.div(tf.sum(loss), input.rank === 0 ? 1 : input.shape[0]);
  });
}
