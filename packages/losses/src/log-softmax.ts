import * as tf from '@tensorflow/tfjs-core';
import { checkTensor } from './internal/checks';

/**
 * log(softmax(input)) along `axis` (default the last, the class axis in convkit's
 * channels-last layout), computed stably as x - max - log(sum(exp(x - max))).
 * `torch.nn.functional.log_softmax` with dim = axis. Shape: output = input.
 */
export function logSoftmax(input: tf.Tensor, axis = -1): tf.Tensor {
  const fn = 'logSoftmax';
  checkTensor(fn, 'input', input);
  if (input.rank === 0) throw new Error(`${fn}: expected input of rank >= 1, received a scalar`);
  if (!Number.isInteger(axis) || axis < -input.rank || axis >= input.rank) {
    throw new Error(`${fn}: axis ${axis} is out of range for input of rank ${input.rank}`);
  }
  const a = axis < 0 ? axis + input.rank : axis;
  if (a === input.rank - 1) return tf.logSoftmax(input, -1);
  return tf.tidy(() => {
    const perm = [...Array(input.rank).keys()];
    perm[a] = input.rank - 1;
    perm[input.rank - 1] = a;
    return tf.transpose(tf.logSoftmax(tf.transpose(input, perm), -1), perm);
  });
}
