import * as tf from '@tensorflow/tfjs-core';
import { fail } from './internal/validate';

/** Gradients as `tf.variableGrads` returns them, or a plain array of gradient tensors. */
export type Gradients = tf.NamedTensorMap | tf.Tensor[];

/**
 * Clip gradients by their total norm, as `torch.nn.utils.clip_grad_norm_`:
 *
 * ```
 * total = ‖(‖g_1‖_p, …, ‖g_n‖_p)‖_p        (p = Infinity: max |g|)
 * g_i = g_i · min(1, maxNorm / (total + 1e-6))
 * ```
 *
 * tfjs tensors are immutable, so "in place" means: each entry of `grads` (map or array) is
 * replaced by its clipped gradient and the original gradient tensor is disposed. Returns the
 * total norm (before clipping) as a scalar the caller disposes.
 */
export function clipGradNorm(
  grads: Gradients,
  maxNorm: number,
  normType: number | 'inf' = 2,
): tf.Scalar {
  if (!(typeof maxNorm === 'number' && maxNorm >= 0))
    fail('clipGradNorm', 'maxNorm', '>= 0', maxNorm);
  const p = normType === 'inf' ? Number.POSITIVE_INFINITY : normType;
  if (!(typeof p === 'number' && p > 0)) fail('clipGradNorm', 'normType', "> 0 or 'inf'", normType);
  const keys = Object.keys(grads) as Array<keyof typeof grads>;
  const tensors = keys.map((k) => (grads as Record<string, tf.Tensor>)[k as string]);
  if (tensors.length === 0) return tf.scalar(0);
  return tf.tidy(() => {
    const total = pNorm(tf.stack(tensors.map((g) => pNorm(g, p))), p) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    keys.forEach((k, i) => {
      const clipped = tf.keep(tf.mul(tensors[i], coef));
      tensors[i].dispose();
      (grads as Record<string, tf.Tensor>)[k as string] = clipped;
    });
    return total;
  });
}

/**
 * Clamp every gradient element to [−clipValue, clipValue], as `torch.nn.utils.clip_grad_value_`.
 * Entries of `grads` are replaced by the clipped tensors and the originals are disposed.
 */
export function clipGradValue(grads: Gradients, clipValue: number): void {
  if (!(typeof clipValue === 'number' && clipValue >= 0))
    fail('clipGradValue', 'clipValue', '>= 0', clipValue);
  const map = grads as Record<string, tf.Tensor>;
  for (const key of Object.keys(grads)) {
    const original = map[key];
    map[key] = tf.clipByValue(original, -clipValue, clipValue);
    original.dispose();
  }
}

function pNorm(x: tf.Tensor, p: number): tf.Tensor {
  const a = tf.abs(x);
  if (p === Number.POSITIVE_INFINITY) return tf.max(a);
  if (p === 1) return tf.sum(a);
  if (p === 2) return tf.sqrt(tf.sum(tf.square(x)));
  return tf.pow(tf.sum(tf.pow(a, p)), 1 / p);
}
