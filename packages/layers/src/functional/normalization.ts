import { batchNormInference } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';

/** What `normalize` computes: the normalized input and the (biased) statistics it used. */
export interface Normalized {
  /** (x - mean) / sqrt(variance + eps). */
  normalized: tf.Tensor;
  /** Mean over `axes`, keeping them as size-1 axes. */
  mean: tf.Tensor;
  /** Biased variance (divided by the count) over `axes`, keeping them as size-1 axes. */
  variance: tf.Tensor;
}

/**
 * Normalize `x` with its own statistics over `axes` (two passes: mean, then the mean of the
 * squared deviations, as PyTorch's CPU kernels). Differentiable; the statistics are returned so
 * BatchNorm can update its running estimates.
 */
export function normalize(x: tf.Tensor, axes: number[], eps: number): Normalized {
  const mean = tf.mean(x, axes, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes, true);
  const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return { normalized, mean, variance };
}

/** `x * weight + bias` for whichever of the two are given (broadcast over the leading axes). */
export function affine(x: tf.Tensor, weight?: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  let y = x;
  if (weight) y = tf.mul(y, weight);
  if (bias) y = tf.add(y, bias);
  return y;
}

/**
 * Inference-mode batch normalization with given `[C]` statistics over the last (channel) axis
 * (torch.nn.functional.batch_norm with training=False): @convkit/backend's
 * `batchNormInference`, one fused pass on wasm.
 */
export const batchNorm = batchNormInference;

/**
 * Layer normalization over the trailing `normalizedShape.length` axes (torch.nn.functional
 * .layer_norm); `weight` and `bias` have shape `normalizedShape`.
 */
export function layerNorm(
  x: tf.Tensor,
  normalizedShape: number[],
  weight?: tf.Tensor,
  bias?: tf.Tensor,
  eps = 1e-5,
): tf.Tensor {
  const trailing = x.shape.slice(x.rank - normalizedShape.length);
  if (normalizedShape.length > x.rank || !tf.util.arraysEqual(trailing, normalizedShape)) {
    throw new Error(
      `layerNorm: expected an input whose trailing axes are [${normalizedShape}], received shape [${x.shape}]`,
    );
  }
  return tf.tidy(() => {
    const axes = normalizedShape.map((_, i) => x.rank - normalizedShape.length + i);
    return affine(normalize(x, axes, eps).normalized, weight, bias);
  });
}

/**
 * Group normalization on channels-last input `[N, ..., C]` (torch.nn.functional.group_norm on
 * `[N, C, ...]`): the C channels split into `numGroups` consecutive groups, each normalized over
 * its channels and every non-batch axis; `weight` and `bias` are `[C]`.
 */
export function groupNorm(
  x: tf.Tensor,
  numGroups: number,
  weight?: tf.Tensor,
  bias?: tf.Tensor,
  eps = 1e-5,
): tf.Tensor {
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2 || channels % numGroups !== 0) {
    throw new Error(
      `groupNorm: expected [N, ..., C] input with C divisible by numGroups ${numGroups}, received shape [${x.shape}]`,
    );
  }
  return tf.tidy(() => {
    const grouped = tf.reshape(x, [...x.shape.slice(0, -1), numGroups, channels / numGroups]);
    // Every axis but the batch axis and the group axis (second to last).
    const axes = [...Array(grouped.rank).keys()].filter((a) => a !== 0 && a !== grouped.rank - 2);
    const { normalized } = normalize(grouped, axes, eps);
    return affine(tf.reshape(normalized, x.shape), weight, bias);
  });
}

/**
 * Local response normalization across channels of channels-last input `[N, ..., C]`, exactly
 * torch.nn.functional.local_response_norm:
 * `y_c = x_c / (k + alpha / size * sum_{c' = c - floor(size / 2)}^{c + floor((size - 1) / 2)} x_c'^2)^beta`
 * with channels outside [0, C) counting as 0 (PyTorch zero-pads the squared input by
 * floor(size / 2) before and floor((size - 1) / 2) after, then average-pools with window `size`,
 * the padding included in the count).
 */
export function localResponseNorm(
  x: tf.Tensor,
  size: number,
  alpha = 1e-4,
  beta = 0.75,
  k = 1,
): tf.Tensor {
  if (x.rank < 3) {
    throw new Error(
      `localResponseNorm: expected an input of rank 3 or more ([N, ..., C]), received shape [${x.shape}]`,
    );
  }
  return tf.tidy(() => {
    const channels = x.shape[x.rank - 1];
    const before = Math.floor(size / 2);
    const after = Math.floor((size - 1) / 2);
    const paddings = x.shape.map((): [number, number] => [0, 0]);
    paddings[x.rank - 1] = [before, after];
    const squares = tf.pad(tf.square(x), paddings);
    let sum: tf.Tensor | undefined;
    for (let offset = 0; offset < size; offset++) {
      // Fresh arrays per slice: tfjs keeps them as the attributes its gradient reads later.
      const begin = x.shape.map((_, a) => (a === x.rank - 1 ? offset : 0));
      const window = tf.slice(squares, begin, [...x.shape.slice(0, -1), channels]);
      sum = sum ? tf.add(sum, window) : window;
    }
    const average = tf.div(sum!, size);
    return tf.div(x, tf.pow(tf.add(tf.mul(average, alpha), k), beta));
  });
}
