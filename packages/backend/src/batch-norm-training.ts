import * as tf from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_BACKWARD,
  BATCH_NORM_FORWARD,
  fusedBatchNormAvailable,
} from './internal/wasm/batch-norm';

/** What `batchNormTraining` returns. */
export interface BatchNormTrainingResult {
  /** The normalized, scaled and shifted input, shaped as x. */
  y: tf.Tensor;
  /** The batch mean per channel, `[C]` (not differentiated). */
  mean: tf.Tensor;
  /** The batch's biased variance per channel, `[C]` (not differentiated). */
  variance: tf.Tensor;
}

/**
 * Batch normalization in train mode over channels-last `x` (`[..., C]`, statistics over every
 * other axis), as torch.nn.functional.batch_norm with training=True:
 * `y = (x - mean) / sqrt(variance + eps) * weight + bias`, computed as PyTorch does,
 * `x * scale + shift`. Differentiable in x, weight and bias with the closed-form gradient
 * (one op, not the ~20 of the composed formula); the statistics are returned for the running
 * estimates. On wasm it runs as two fused SIMD kernels (five passes over the data, on every
 * thread); elsewhere as tfjs ops.
 */
export function batchNormTraining(
  x: tf.Tensor,
  weight?: tf.Tensor,
  bias?: tf.Tensor,
  eps = 1e-5,
): BatchNormTrainingResult {
  const c = x.shape[x.rank - 1];
  const rows = x.size / c;
  if (x.rank < 2 || rows < 1) {
    throw new Error(
      `batchNormTraining: expected channels-last input [..., C] of rank 2 or more, received shape [${x.shape}]`,
    );
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new Error(`batchNormTraining: expected ${name} of shape [${c}], received [${t.shape}]`);
    }
  }
  let statistics: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const op = tf.customGrad((xx, w, b, save) => {
    const [y, mean, variance] = normalizeForward(
      xx as tf.Tensor,
      w as tf.Tensor,
      b as tf.Tensor,
      eps,
    );
    (save as tf.GradSaveFunc)([xx as tf.Tensor, w as tf.Tensor, mean, variance]);
    // The forward runs in a tidy of tfjs's own: keep the statistics out of it (and below,
    // hand the caller's scope tracked clones of them).
    statistics = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sw, sMean, sVariance] = saved;
        return normalizeBackward(dy as tf.Tensor, sx, sw, sMean, sVariance, eps);
      },
    };
  });
  return tf.tidy(() => {
    const y = op(x, weight ?? tf.ones([c]), bias ?? tf.zeros([c]));
    const kept = statistics as { mean: tf.Tensor; variance: tf.Tensor };
    const result = { y, mean: tf.clone(kept.mean), variance: tf.clone(kept.variance) };
    tf.dispose([kept.mean, kept.variance]);
    return result;
  });
}

function normalizeForward(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor[] {
  if (fusedBatchNormAvailable()) {
    return tf
      .engine()
      .runKernel(BATCH_NORM_FORWARD, { x, weight: w, bias: b }, { eps }) as tf.Tensor[];
  }
  const c = x.shape[x.rank - 1];
  const flat = tf.reshape(x, [-1, c]);
  const mean = tf.mean(flat, 0);
  const variance = tf.mean(tf.square(tf.sub(flat, mean)), 0);
  const scale = tf.mul(w, tf.rsqrt(tf.add(variance, eps)));
  const shift = tf.sub(b, tf.mul(mean, scale));
  return [tf.add(tf.mul(x, scale), shift), mean, variance];
}

function normalizeBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  w: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  eps: number,
): tf.Tensor[] {
  if (fusedBatchNormAvailable()) {
    return tf
      .engine()
      .runKernel(BATCH_NORM_BACKWARD, { dy, x, mean, variance, weight: w }, { eps }) as tf.Tensor[];
  }
  const c = x.shape[x.rank - 1];
  const rows = x.size / c;
  const flatDy = tf.reshape(dy, [-1, c]);
  const centered = tf.sub(tf.reshape(x, [-1, c]), mean);
  const sumDy = tf.sum(flatDy, 0);
  const dot = tf.sum(tf.mul(flatDy, centered), 0);
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const k = tf.div(tf.mul(dot, tf.square(invStd)), rows);
  const meanDy = tf.div(sumDy, rows);
  const scale = tf.mul(invStd, w);
  const dx = tf.mul(tf.sub(tf.sub(flatDy, meanDy), tf.mul(centered, k)), scale);
  return [tf.reshape(dx, x.shape), tf.mul(dot, invStd), sumDy];
}
