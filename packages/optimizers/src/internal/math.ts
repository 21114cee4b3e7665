import * as tf from '@tensorflow/tfjs-core';

/** `a + alpha * b` (PyTorch's `a.add(b, alpha=alpha)`). */
export function addScaled(a: tf.Tensor, b: tf.Tensor, alpha: number): tf.Tensor {
  return alpha === 1 ? tf.add(a, b) : tf.add(a, tf.mul(b, alpha));
}

/** `beta * avg + (1 - beta) * value` (PyTorch's `avg.mul_(beta).add_(value, alpha=1 - beta)`). */
export function lerpAverage(avg: tf.Tensor, value: tf.Tensor, beta: number): tf.Tensor {
  return tf.add(tf.mul(avg, beta), tf.mul(value, 1 - beta));
}

/** `beta * avg + (1 - beta) * value²` (PyTorch's `addcmul_(value, value, value=1 - beta)`). */
export function squareAverage(avg: tf.Tensor, value: tf.Tensor, beta: number): tf.Tensor {
  return tf.add(tf.mul(avg, beta), tf.mul(tf.square(value), 1 - beta));
}

/** The gradient after `maximize` and L2 `weightDecay` (`g + weightDecay * p`). */
export function effectiveGrad(
  grad: tf.Tensor,
  param: tf.Tensor,
  weightDecay: number,
  maximize = false,
): tf.Tensor {
  const g = maximize ? tf.neg(grad) : grad;
  return weightDecay !== 0 ? addScaled(g, param, weightDecay) : g;
}
