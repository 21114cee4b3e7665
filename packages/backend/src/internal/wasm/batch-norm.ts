import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { ChannelWalk, foldChunks, pattern, runChunks } from './channel-walk';
import { type Info, KernelScope } from './kernel-scope';
import { heapOffset, type SimdKernels, simdKernels } from './simd-kernels';

/**
 * Batch normalization in train mode on wasm, channels last, as two kernels (the op and its
 * gradient are in ../../batch-norm-training.ts):
 *
 * - forward: per channel the mean, then the biased variance (two passes, as PyTorch's CPU
 *   kernel), then y = x * scale + shift with scale = weight / sqrt(variance + eps) and
 *   shift = bias - mean * scale (PyTorch's form);
 * - backward: per channel sum(dy) and sum(dy * (x - mean)), then
 *   dx = (dy - mean(dy) - (x - mean) * k) * scale with k = sum(dy * (x - mean)) / (M * (variance + eps)),
 *   dweight = sum(dy * (x - mean)) / sqrt(variance + eps), dbias = sum(dy).
 *
 * Composed from tfjs ops, the same work took about 20 kernels per layer and a `ones(x.shape)`
 * tensor filled in JavaScript for each Mean gradient; here it is five passes over the data.
 * The data is walked in blocks of P = lcm(C, 4) floats, in fixed chunks of whole blocks
 * (channel-walk.ts), so the chunks can be split between convkit's kernel workers with the
 * same bits on any thread count.
 */

export const BATCH_NORM_FORWARD = 'ConvkitBatchNormForward';
/** Eval mode: y = x * scale + shift from given statistics, one SIMD pass. */
export const BATCH_NORM_INFERENCE = 'ConvkitBatchNormInference';
export const BATCH_NORM_BACKWARD = 'ConvkitBatchNormBackward';

/** Whether the fused kernels can run on the active backend (wasm, SIMD compiled). */
export function fusedBatchNormAvailable(): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(BATCH_NORM_FORWARD, 'wasm')) return false;
  return simdKernels(tf.backend() as BackendWasm) !== undefined;
}

/**
 * `[fn(0), .., fn(c - 1)]`, with a plain loop: `Float32Array.from(values, fn)` took ~30 us at
 * C = 512 here (a few calls per layer added up to a tenth of a millisecond).
 */
function perChannel(
  c: number,
  fn: (j: number) => number,
  type: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): Float32Array | Float64Array {
  const out = new type(c);
  for (let j = 0; j < c; j++) out[j] = fn(j);
  return out;
}

/**
 * y = x * scale + shift per channel (each product rounded to float32 before the sum), the
 * last pass of the train-mode forward and the whole of the eval-mode one: SIMD `bnAffine`
 * over the chunks, the few floats past the last whole block in JS.
 */
function affine(
  scope: KernelScope,
  simd: SimdKernels,
  walk: ChannelWalk,
  x: Info,
  scale: ArrayLike<number>,
  shift: ArrayLike<number>,
): Info {
  const { backend } = scope;
  const ptr = (t: Info, floats = 0) => heapOffset(backend, t.dataId) + floats * 4;
  const [scalePattern, shiftPattern] = [scale, shift].map((v) => pattern(scope, walk, v));
  const y = scope.alloc(x.shape);
  runChunks(backend, simd, walk, (_, start, end) => ({
    name: 'bnAffine',
    args: [
      ptr(x, start),
      ptr(scalePattern),
      ptr(shiftPattern),
      ptr(y, start),
      end - start,
      walk.period,
    ],
  }));
  const [ys, xs] = [scope.f32(y), scope.f32(x)];
  const c = walk.c;
  for (let i = walk.whole; i < walk.total; i++)
    ys[i] = Math.fround(xs[i] * scale[i % c]) + shift[i % c];
  return y;
}

function vector(scope: KernelScope, values: ArrayLike<number>): Info {
  const out = scope.alloc([values.length]);
  scope.f32(out).set(values);
  return out;
}

function forward(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info[] {
  const { inputs, backend, attrs } = args;
  const eps = attrs.eps as number;
  const x = inputs.x as Info;
  const simd = simdKernels(backend) as SimdKernels;
  const c = x.shape[x.shape.length - 1];
  const walk = new ChannelWalk(tf.util.sizeFromShape(x.shape), c);
  const rows = walk.total / c;
  const { period } = walk;
  const scope = new KernelScope(backend);
  try {
    const ptr = (t: Info, floats = 0) => heapOffset(backend, t.dataId) + floats * 4;
    const chunks = walk.chunks.length;
    // Pass 1: the mean.
    const sumAcc = scope.alloc([chunks, period], 'float32', true);
    runChunks(backend, simd, walk, (i, start, end) => ({
      name: 'sumPattern',
      args: [ptr(x, start), ptr(sumAcc, i * period), end - start, period],
    }));
    const [sums] = foldChunks(scope, sumAcc, walk, 1);
    const xs = scope.f32(x);
    for (let i = walk.whole; i < walk.total; i++) sums[i % c] += xs[i];
    const mean = perChannel(c, (j) => sums[j] / rows);
    // Pass 2: the biased variance, from the deviations of the (float32) mean.
    const meanPattern = pattern(scope, walk, mean);
    const sqAcc = scope.alloc([chunks, period], 'float32', true);
    runChunks(backend, simd, walk, (i, start, end) => ({
      name: 'bnSquaredDeviations',
      args: [ptr(x, start), ptr(meanPattern), ptr(sqAcc, i * period), end - start, period],
    }));
    const [squares] = foldChunks(scope, sqAcc, walk, 1);
    const xs2 = scope.f32(x);
    for (let i = walk.whole; i < walk.total; i++) squares[i % c] += (xs2[i] - mean[i % c]) ** 2;
    const variance = perChannel(c, (j) => squares[j] / rows);
    // Pass 3: y = x * scale + shift.
    const weight = scope.f32(inputs.weight as Info).slice();
    const bias = scope.f32(inputs.bias as Info).slice();
    const scale = perChannel(c, (j) => weight[j] / Math.sqrt(variance[j] + eps));
    const shift = perChannel(c, (j) => bias[j] - mean[j] * scale[j]);
    const y = affine(scope, simd, walk, x, scale, shift);
    return [y, vector(scope, mean), vector(scope, variance)].map((t) => scope.keep(t));
  } finally {
    scope.dispose();
  }
}

function backward(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info[] {
  const { inputs, backend, attrs } = args;
  const eps = attrs.eps as number;
  const dy = inputs.dy as Info;
  const x = inputs.x as Info;
  const simd = simdKernels(backend) as SimdKernels;
  const c = x.shape[x.shape.length - 1];
  const walk = new ChannelWalk(tf.util.sizeFromShape(x.shape), c);
  const rows = walk.total / c;
  const { period } = walk;
  const scope = new KernelScope(backend);
  try {
    const ptr = (t: Info, floats = 0) => heapOffset(backend, t.dataId) + floats * 4;
    const mean = scope.f32(inputs.mean as Info).slice();
    const variance = scope.f32(inputs.variance as Info).slice();
    const weight = scope.f32(inputs.weight as Info).slice();
    // Pass 1: sum(dy) and sum(dy * (x - mean)) per channel.
    const meanPattern = pattern(scope, walk, mean);
    const acc = scope.alloc([walk.chunks.length, 2, period], 'float32', true);
    runChunks(backend, simd, walk, (i, start, end) => ({
      name: 'bnGradientSums',
      args: [
        ptr(dy, start),
        ptr(x, start),
        ptr(meanPattern),
        ptr(acc, 2 * i * period),
        ptr(acc, (2 * i + 1) * period),
        end - start,
        period,
      ],
    }));
    const [sumDy, dot] = foldChunks(scope, acc, walk, 2);
    const dys = scope.f32(dy);
    const xs = scope.f32(x);
    for (let i = walk.whole; i < walk.total; i++) {
      sumDy[i % c] += dys[i];
      dot[i % c] += dys[i] * (xs[i] - mean[i % c]);
    }
    // Pass 2: dx.
    const invStd = perChannel(c, (j) => 1 / Math.sqrt(variance[j] + eps), Float64Array);
    const k = perChannel(c, (j) => (dot[j] * invStd[j] * invStd[j]) / rows);
    const meanDy = perChannel(c, (j) => sumDy[j] / rows);
    const scale = perChannel(c, (j) => invStd[j] * weight[j]);
    const patterns = [k, meanDy, scale].map((values) => pattern(scope, walk, values));
    const dx = scope.alloc(x.shape);
    runChunks(backend, simd, walk, (_, start, end) => ({
      name: 'bnInputGradient',
      args: [
        ptr(dy, start),
        ptr(x, start),
        ptr(meanPattern),
        ...patterns.map((p) => ptr(p)),
        ptr(dx, start),
        end - start,
        period,
      ],
    }));
    const dxs = scope.f32(dx);
    const dys2 = scope.f32(dy);
    const xs2 = scope.f32(x);
    for (let i = walk.whole; i < walk.total; i++) {
      const j = i % c;
      dxs[i] = (dys2[i] - meanDy[j] - (xs2[i] - mean[j]) * k[j]) * scale[j];
    }
    const dWeight = perChannel(c, (j) => dot[j] * invStd[j]);
    const dBias = Float32Array.from(sumDy);
    return [dx, vector(scope, dWeight), vector(scope, dBias)].map((t) => scope.keep(t));
  } finally {
    scope.dispose();
  }
}

/**
 * Eval mode, `y = x * scale + shift` with the given `[C]` statistics (weight and bias
 * optional), in one pass: the composed form takes two passes over x (a multiply, then an
 * add) and five small kernels for scale and shift. scale and shift are computed in the
 * composed form's order, rounded to float32 at each step (invStd = 1 / sqrt(variance + eps),
 * scale = invStd * weight, shift = bias - mean * scale), and y = x * scale + shift rounds the
 * product before the sum, as the two kernels do.
 */
function inference(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const f32 = Math.fround;
  const eps = f32(attrs.eps as number);
  const x = inputs.x as Info;
  const simd = simdKernels(backend) as SimdKernels;
  const c = x.shape[x.shape.length - 1];
  const walk = new ChannelWalk(tf.util.sizeFromShape(x.shape), c);
  const scope = new KernelScope(backend);
  try {
    const values = (name: string) => {
      const t = inputs[name] as Info | undefined;
      return t ? scope.f32(t).slice() : undefined;
    };
    const [mean, variance, weight, bias] = ['mean', 'variance', 'weight', 'bias'].map(values);
    const invStd = perChannel(
      c,
      (j) => 1 / f32(Math.sqrt(f32((variance as Float32Array)[j] + eps))),
    );
    const scale = weight ? perChannel(c, (j) => invStd[j] * weight[j]) : invStd;
    const shift = perChannel(
      c,
      (j) => (bias?.[j] ?? 0) - f32((mean as Float32Array)[j] * scale[j]),
    );
    return scope.keep(affine(scope, simd, walk, x, scale, shift));
  } finally {
    scope.dispose();
  }
}

export const batchNormInferenceConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_INFERENCE,
  backendName: 'wasm',
  kernelFunc: inference as unknown as tf.KernelFunc,
};

export const batchNormForwardConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_FORWARD,
  backendName: 'wasm',
  kernelFunc: forward as unknown as tf.KernelFunc,
};

export const batchNormBackwardConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_BACKWARD,
  backendName: 'wasm',
  kernelFunc: backward as unknown as tf.KernelFunc,
};
