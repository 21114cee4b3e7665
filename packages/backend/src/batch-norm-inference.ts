import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_INFERENCE, fusedBatchNormAvailable } from './internal/wasm/batch-norm';

/**
 * Batch normalization in eval mode over channels-last `x` (`[..., C]`) with given statistics,
 * as torch.nn.functional.batch_norm with training=False:
 * `(x - mean) / sqrt(variance + eps) * weight + bias`, each a `[C]` vector, computed as PyTorch
 * does, `x * scale + shift`. Differentiable in x, weight and bias; mean and variance are the
 * running statistics (buffers in PyTorch) and get no gradient. On wasm the forward is one
 * fused SIMD pass (`ConvkitBatchNormInference`) instead of seven kernels; elsewhere tfjs ops.
 */
export function batchNormInference(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  weight?: tf.Tensor,
  bias?: tf.Tensor,
  eps = 1e-5,
): tf.Tensor {
  const c = x.shape[x.rank - 1];
  for (const [name, t] of [
    ['mean', mean],
    ['variance', variance],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new Error(
        `batchNormInference: expected ${name} of shape [${c}] (the input's last axis, input shape [${x.shape}]), received [${t.shape}]`,
      );
    }
  }
  if (x.rank < 2 || x.dtype !== 'float32' || !fusedBatchNormAvailable()) {
    return tf.tidy(() => composed(x, mean, variance, weight, bias, eps));
  }
  const params = [weight, bias].filter((t): t is tf.Tensor => t !== undefined);
  const op = tf.customGrad((...args) => {
    const [xx, ...given] = args.slice(0, -1) as tf.Tensor[];
    const [w, b] = weight ? given : [undefined, given[0]];
    const inputs: tf.NamedTensorMap = { x: xx, mean, variance };
    if (w) inputs.weight = w;
    if (b) inputs.bias = b;
    const y = tf.engine().runKernel(BATCH_NORM_INFERENCE, inputs, { eps }) as tf.Tensor;
    (args[args.length - 1] as tf.GradSaveFunc)([xx, ...given]);
    return {
      value: y,
      gradFunc: (dy, saved) =>
        gradients(
          dy as tf.Tensor,
          saved,
          mean,
          variance,
          weight !== undefined,
          bias !== undefined,
          eps,
        ),
    };
  });
  return op(x, ...params);
}

/** The formula as tfjs ops: PyTorch's x * scale + shift, with the [C] vectors folded first. */
function composed(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  weight: tf.Tensor | undefined,
  bias: tf.Tensor | undefined,
  eps: number,
): tf.Tensor {
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const scale = weight ? tf.mul(invStd, weight) : invStd;
  const shift = tf.sub(bias ?? 0, tf.mul(mean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/**
 * dx = dy * scale; dweight = sum(dy * (x - mean)) * invStd; dbias = sum(dy), the sums over
 * every axis but the last: the gradients of the composed form in x, weight and bias.
 */
function gradients(
  dy: tf.Tensor,
  saved: tf.Tensor[],
  mean: tf.Tensor,
  variance: tf.Tensor,
  hasWeight: boolean,
  hasBias: boolean,
  eps: number,
): tf.Tensor[] {
  const [x, weight] = saved;
  const leading = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const dx = tf.mul(dy, hasWeight ? tf.mul(invStd, weight) : invStd);
  const grads = [dx];
  if (hasWeight) grads.push(tf.mul(tf.sum(tf.mul(dy, tf.sub(x, mean)), leading), invStd));
  if (hasBias) grads.push(tf.sum(dy, leading));
  return grads;
}
