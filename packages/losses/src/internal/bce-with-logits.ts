import * as tf from '@tensorflow/tfjs-core';
import { customGrad } from './checks';

/** softplus(-x) = log(1 + exp(-x)) without overflow: max(-x, 0) + log1p(exp(-|x|)). */
export function softplusNeg(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(tf.neg(x)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/**
 * Element-wise BCE with logits, PyTorch's formula
 *   (1 - t) x + (1 + (pw - 1) t) softplus(-x),
 * stable for any x, with closed-form gradients (a custom gradient, so no |x| or comparison
 * is differentiated; autograd of |x| would be wrong at x = 0):
 *   d/dx = (1 - t) - (1 + (pw - 1) t) sigmoid(-x),   d/dt = -x + (pw - 1) softplus(-x).
 * `posWeight` (broadcast to x) is a constant; null means 1.
 */
export function bceWithLogitsElementwise(
  x: tf.Tensor,
  t: tf.Tensor,
  posWeight: tf.Tensor | null,
): tf.Tensor {
  const f = customGrad((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const sp = softplusNeg(a);
    const logWeight = posWeight ? tf.add(tf.mul(tf.sub(posWeight, 1), b), 1) : null;
    const value = tf.add(tf.mul(tf.sub(1, b), a), logWeight ? tf.mul(logWeight, sp) : sp);
    save(posWeight ? [a, b, sp, posWeight] : [a, b, sp]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sa, sb, ssp, pw]: tf.Tensor[]) => {
        // posWeight comes back through `save`: the caller's tidy has disposed the original.
        const sigNeg = tf.sigmoid(tf.neg(sa));
        const lw = pw ? tf.add(tf.mul(tf.sub(pw, 1), sb), 1) : null;
        const dx = tf.sub(tf.sub(1, sb), lw ? tf.mul(lw, sigNeg) : sigNeg);
        const dt = pw ? tf.add(tf.neg(sa), tf.mul(tf.sub(pw, 1), ssp)) : tf.neg(sa);
        return [tf.mul(dy, dx), tf.mul(dy, dt)];
      },
    };
  });
  return f(x, t);
}
