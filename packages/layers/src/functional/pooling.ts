/**
 * Pooling of NHWC tensors, after torch.nn.functional (max_pool2d, avg_pool2d, adaptive pools);
 * the pooling classes call these (one implementation), validating with the same rules.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type IntOrPair, toPair } from '../int-or-pair';
import type { Shape } from '../module';
import { convOutputSize } from '../output-size';

type Pair = [number, number];
const AXES = ['H', 'W'] as const;

function expectNhwc(where: string, shape: Shape): void {
  if (shape.length !== 4) {
    throw new Error(`${where}: expected a rank-4 NHWC input, received shape [${shape}]`);
  }
}

export interface MaxPool2dFunctionOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair | null;
  /** Implicit -inf padding per side, at most half the kernel. Default 0. */
  padding?: IntOrPair;
  /** Default 1. */
  dilation?: IntOrPair;
  /** Ceil instead of floor in the output size. Default false. */
  ceilMode?: boolean;
}

export interface AvgPool2dFunctionOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair | null;
  /** Implicit zero padding per side, at most half the kernel. Default 0. */
  padding?: IntOrPair;
  /** Default false. */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor. Default true. */
  countIncludePad?: boolean;
  /** Divide every window by this instead. Default none. */
  divisorOverride?: number | null;
}

/** @internal One spatial axis of a pooling window. */
export interface PoolAxis {
  size: number;
  kernel: number;
  stride: number;
  pad: number;
  dilation: number;
  out: number;
}

/** @internal Validate pooling options against an input shape; one entry per spatial axis. */
export function poolGeometry(
  where: string,
  input: Shape,
  options: MaxPool2dFunctionOptions,
): [PoolAxis, PoolAxis] {
  const kernel = toPair(where, 'kernelSize', options.kernelSize);
  const strides = toPair(where, 'stride', options.stride ?? options.kernelSize);
  const pads = toPair(where, 'padding', options.padding ?? 0, 0);
  const dilations = toPair(where, 'dilation', options.dilation ?? 1);
  if (pads.some((p, i) => p > kernel[i] / 2)) {
    throw new Error(
      `${where}: padding should be at most half of the kernel size, received padding ${JSON.stringify(options.padding)} for kernelSize ${JSON.stringify(options.kernelSize)}`,
    );
  }
  expectNhwc(where, input);
  return [0, 1].map((i) => {
    const size = input[i + 1];
    const out = convOutputSize(size, {
      kernelSize: kernel[i],
      stride: strides[i],
      padding: pads[i],
      dilation: dilations[i],
      ceilMode: options.ceilMode ?? false,
    });
    // PyTorch's rule: refuse only when no window fits; with ceilMode a window may hang past a
    // small input (GoogLeNet's last pool on a 2x2 map), which the -inf / count padding handles.
    if (out < 1) {
      throw new Error(
        `${where}: kernel ${kernel[0]}x${kernel[1]}${dilations[i] > 1 ? ` (dilation ${dilations[i]})` : ''} is larger than the padded input ${size + 2 * pads[i]} on axis ${AXES[i]}; input shape [${input}]`,
      );
    }
    return {
      size,
      kernel: kernel[i],
      stride: strides[i],
      pad: pads[i],
      dilation: dilations[i],
      out,
    };
  }) as [PoolAxis, PoolAxis];
}

/** Cells after the input a window reaches (possibly negative: unused rows at the end). */
const reachAfter = (a: PoolAxis) =>
  (a.out - 1) * a.stride + a.dilation * (a.kernel - 1) + 1 - a.pad - a.size;

/**
 * Every `stride`-th row (axis 1) or column (axis 2) starting at `start`, `count` of them, with
 * reshapes and contiguous slices only (rank <= 4, differentiable everywhere). `x` must extend to
 * at least `start + stride * count` on that axis.
 */
function strided(
  x: tf.Tensor,
  axis: 1 | 2,
  start: number,
  stride: number,
  count: number,
): tf.Tensor {
  const [n, h, w, c] = x.shape;
  if (axis === 1) {
    const rows = tf.slice(x, [0, start, 0, 0], [n, stride * count, w, c]);
    if (stride === 1) return rows;
    const grouped = tf.reshape(rows, [n, count, stride * w * c]);
    return tf.reshape(tf.slice(grouped, [0, 0, 0], [n, count, w * c]), [n, count, w, c]);
  }
  const cols = tf.slice(x, [0, 0, start, 0], [n, h, stride * count, c]);
  if (stride === 1) return cols;
  const grouped = tf.reshape(cols, [n * h, count, stride * c]);
  return tf.reshape(tf.slice(grouped, [0, 0, 0], [n * h, count, c]), [n, h, count, c]);
}

/** @internal Max pooling with a validated geometry. */
export function maxPoolWith(x: tf.Tensor, [ah, aw]: [PoolAxis, PoolAxis]): tf.Tensor {
  return tf.tidy(() => {
    if (ah.dilation === 1 && aw.dilation === 1) {
      const after = [ah, aw].map((a) => Math.max(reachAfter(a), 0));
      const padded =
        ah.pad || aw.pad || after[0] || after[1]
          ? tf.pad(
              x,
              [
                [0, 0],
                [ah.pad, after[0]],
                [aw.pad, after[1]],
                [0, 0],
              ],
              Number.NEGATIVE_INFINITY,
            )
          : x;
      return tf.maxPool(
        padded as tf.Tensor4D,
        [ah.kernel, aw.kernel],
        [ah.stride, aw.stride],
        'valid',
      );
    }
    // Dilated windows: the maximum over the k*k strided views of the -inf padded input. The
    // gradient of tf.maximum goes to the larger operand (both on an exact tie).
    const after = [ah, aw].map((a) =>
      Math.max(a.dilation * (a.kernel - 1) + a.stride * a.out - a.pad - a.size, 0),
    );
    const padded = tf.pad(
      x,
      [
        [0, 0],
        [ah.pad, after[0]],
        [aw.pad, after[1]],
        [0, 0],
      ],
      Number.NEGATIVE_INFINITY,
    );
    let result: tf.Tensor | undefined;
    for (let i = 0; i < ah.kernel; i++) {
      const rows = strided(padded, 1, i * ah.dilation, ah.stride, ah.out);
      for (let j = 0; j < aw.kernel; j++) {
        const view = strided(rows, 2, j * aw.dilation, aw.stride, aw.out);
        result = result ? tf.maximum(result, view) : view;
      }
    }
    return result as tf.Tensor;
  });
}

/**
 * Max pooling over NHWC input, as torch.nn.functional.max_pool2d (padding is -inf, `ceilMode`
 * and `dilation` supported). On exact ties inside a window the gradient may differ from
 * PyTorch's (which sends it to the first maximum only).
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - d(k - 1) - 1) / s) + 1`
 * (ceil with `ceilMode`, the last window starting inside the input or the left padding).
 */
export function maxPool2d(x: tf.Tensor, options: MaxPool2dFunctionOptions): tf.Tensor {
  return maxPoolWith(x, poolGeometry('maxPool2d', x.shape, options));
}

/**
 * @internal The indices of the maxima of max pooling with a validated geometry, in PyTorch's
 * convention: per (sample, channel) plane, the flat position `h·W + w` in the (unpadded)
 * input; int32, NHWC like the output. The first maximum of a window in row-major order wins
 * (PyTorch's CPU kernel). Not differentiable (integers).
 */
export function maxPoolIndicesWith(x: tf.Tensor, [ah, aw]: [PoolAxis, PoolAxis]): tf.Tensor {
  return tf.tidy(() => {
    const padding: Array<[number, number]> = [
      [0, 0],
      ...[ah, aw].map(
        (a) =>
          [a.pad, Math.max(a.dilation * (a.kernel - 1) + a.stride * a.out - a.pad - a.size, 0)] as [
            number,
            number,
          ],
      ),
      [0, 0],
    ];
    const padded = tf.pad(x, padding, Number.NEGATIVE_INFINITY);
    // Flat positions h·W + w as float32 (exact below 2^24), -1 in the padding.
    const positions = tf.reshape(tf.range(0, ah.size * aw.size, 1, 'float32'), [
      1,
      ah.size,
      aw.size,
      1,
    ]);
    const paddedPositions = tf.pad(positions, padding, -1);
    let best: tf.Tensor | undefined;
    let index: tf.Tensor | undefined;
    for (let i = 0; i < ah.kernel; i++) {
      const rows = strided(padded, 1, i * ah.dilation, ah.stride, ah.out);
      const rowPositions = strided(paddedPositions, 1, i * ah.dilation, ah.stride, ah.out);
      for (let j = 0; j < aw.kernel; j++) {
        const view = strided(rows, 2, j * aw.dilation, aw.stride, aw.out);
        const viewPositions = strided(rowPositions, 2, j * aw.dilation, aw.stride, aw.out);
        if (best === undefined || index === undefined) {
          best = view;
          index = tf.add(tf.zerosLike(view), viewPositions);
          continue;
        }
        const larger = tf.greater(view, best);
        best = tf.where(larger, view, best);
        index = tf.add(index, tf.mul(tf.cast(larger, 'float32'), tf.sub(viewPositions, index)));
      }
    }
    return tf.cast(index as tf.Tensor, 'int32');
  });
}

/**
 * Max pooling that also returns where each maximum came from, as
 * torch.nn.functional.max_pool2d(..., return_indices=True): `[output, indices]`, the indices
 * int32 in PyTorch's flat-per-channel convention (`h·W + w` of the input plane; the same
 * numbers PyTorch gives, in NHWC order), ready for `maxUnpool2d`.
 */
export function maxPool2dWithIndices(
  x: tf.Tensor,
  options: MaxPool2dFunctionOptions,
): [tf.Tensor, tf.Tensor] {
  const geometry = poolGeometry('maxPool2d', x.shape, options);
  return [maxPoolWith(x, geometry), maxPoolIndicesWith(x, geometry)];
}

export interface MaxUnpool2dFunctionOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair | null;
  /** Default 0. */
  padding?: IntOrPair;
  /**
   * The `[H, W]` to restore (e.g. the pooled input's odd size); default
   * `(H' - 1)·stride + kernelSize - 2·padding`. Must lie strictly within one stride of it.
   */
  outputSize?: [number, number] | null;
}

/** @internal Validate max-unpool options and inputs; returns the output `[H, W]`. */
export function unpoolGeometry(
  where: string,
  input: Shape,
  indices: Shape | undefined,
  options: MaxUnpool2dFunctionOptions,
): Pair {
  const kernel = toPair(where, 'kernelSize', options.kernelSize);
  const strides = toPair(where, 'stride', options.stride ?? options.kernelSize);
  const pads = toPair(where, 'padding', options.padding ?? 0, 0);
  expectNhwc(where, input);
  if (indices !== undefined && !(indices.length === 4 && indices.every((d, i) => d === input[i]))) {
    throw new Error(
      `${where}: expected indices of the input's shape [${input}] (as max pooling returned them), received shape [${indices}]`,
    );
  }
  const defaults = [0, 1].map((i) => (input[i + 1] - 1) * strides[i] + kernel[i] - 2 * pads[i]);
  if (defaults.some((d) => d < 1)) {
    throw new Error(
      `${where}: the output size (H' - 1)·stride + kernelSize - 2·padding is [${defaults}] for input shape [${input}]; it must be positive`,
    );
  }
  const size = options.outputSize;
  if (size === undefined || size === null) return defaults as Pair;
  const ok =
    Array.isArray(size) &&
    size.length === 2 &&
    size.every(
      (v, i) => Number.isInteger(v) && v > defaults[i] - strides[i] && v < defaults[i] + strides[i],
    );
  if (!ok) {
    throw new Error(
      `${where}: expected outputSize [H, W] strictly between [${defaults.map((d, i) => d - strides[i])}] and [${defaults.map((d, i) => d + strides[i])}] (one stride around the default [${defaults}]), received ${JSON.stringify(size)}`,
    );
  }
  return [size[0], size[1]];
}

/** @internal Max unpooling into a validated `[H, W]`. */
export function maxUnpoolWith(x: tf.Tensor, indices: tf.Tensor, [outH, outW]: Pair): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const total = n * outH * outW * c;
  // Position of every input element in the flat NHWC output: ((n·H·W + index)·C + c).
  const targets = () =>
    tf.tidy(() => {
      const int = (v: number) => tf.scalar(v, 'int32');
      const sample = tf.reshape(tf.mul(tf.range(0, n, 1, 'int32'), int(outH * outW)), [n, 1, 1, 1]);
      const channel = tf.reshape(tf.range(0, c, 1, 'int32'), [1, 1, 1, c]);
      const flat = tf.add(tf.mul(tf.add(indices, sample), int(c)), channel);
      return tf.reshape(flat, [n * h * w * c]);
    });
  const unpool = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const where = targets();
    save([where]);
    const value = tf.tidy(() =>
      tf.reshape(
        tf.tensorScatterUpdate(
          tf.zeros([total]),
          tf.reshape(where, [n * h * w * c, 1]),
          tf.reshape(input, [n * h * w * c]),
        ),
        [n, outH, outW, c],
      ),
    );
    return {
      value,
      // PyTorch's backward: the output gradient gathered at each input's position.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.reshape(tf.gather(tf.reshape(dy, [total]), saved[0]), [n, h, w, c]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (unpool as (t: tf.Tensor) => tf.Tensor)(x);
}

/**
 * The partial inverse of max pooling, as torch.nn.functional.max_unpool2d: every value of `x`
 * is written at the position `indices` names (as `maxPool2dWithIndices` returns them: `h·W + w`
 * per sample and channel), zeros elsewhere. The gradient gathers the output gradient at those
 * positions (PyTorch's). Indices are not range-checked (that would read them back to the CPU);
 * an out-of-range index is the caller's error, as in PyTorch.
 *
 * Shape: `[N, H', W', C]` (and indices of that shape) -> `[N, H, W, C]`,
 * `H = (H' - 1)·stride + kernelSize - 2·padding` unless `outputSize` says otherwise.
 */
export function maxUnpool2d(
  x: tf.Tensor,
  indices: tf.Tensor,
  options: MaxUnpool2dFunctionOptions,
): tf.Tensor {
  if (!(indices instanceof tf.Tensor) || indices.dtype !== 'int32') {
    throw new Error(
      `maxUnpool2d: expected indices to be an int32 tensor (from maxPool2dWithIndices), received ${indices instanceof tf.Tensor ? `dtype ${indices.dtype}` : typeof indices}`,
    );
  }
  return maxUnpoolWith(x, indices, unpoolGeometry('maxUnpool2d', x.shape, indices.shape, options));
}

/** @internal Validate avg-pool options; the divisor override must be a positive integer. */
export function avgPoolGeometry(
  where: string,
  input: Shape,
  options: AvgPool2dFunctionOptions,
): [PoolAxis, PoolAxis] {
  const d = options.divisorOverride;
  if (d !== undefined && d !== null && !(Number.isInteger(d) && d > 0)) {
    throw new Error(
      `${where}: expected divisorOverride to be a positive integer, received ${JSON.stringify(d)}`,
    );
  }
  return poolGeometry(where, input, { ...options, dilation: 1 });
}

/** PyTorch's divisor of every window on one axis: [count including padding, count of input cells]. */
function windowCounts(a: PoolAxis): [number[], number[]] {
  const withPad: number[] = [];
  const inside: number[] = [];
  for (let o = 0; o < a.out; o++) {
    const start = o * a.stride - a.pad;
    const end = Math.min(start + a.kernel, a.size + a.pad);
    withPad.push(end - start);
    inside.push(Math.min(end, a.size) - Math.max(start, 0));
  }
  return [withPad, inside];
}

/** @internal Average pooling with a validated geometry. */
export function avgPoolWith(
  x: tf.Tensor,
  [ah, aw]: [PoolAxis, PoolAxis],
  options: Pick<AvgPool2dFunctionOptions, 'countIncludePad' | 'divisorOverride'>,
): tf.Tensor {
  return tf.tidy(() => {
    const after = [ah, aw].map((a) => Math.max(reachAfter(a), 0));
    const padded =
      ah.pad || aw.pad || after[0] || after[1]
        ? tf.pad(x, [
            [0, 0],
            [ah.pad, after[0]],
            [aw.pad, after[1]],
            [0, 0],
          ])
        : x;
    const mean = tf.avgPool(
      padded as tf.Tensor4D,
      [ah.kernel, aw.kernel],
      [ah.stride, aw.stride],
      'valid',
    );
    // tfjs divides every window by kh * kw; rescale where PyTorch's divisor differs.
    const [hPad, hIn] = windowCounts(ah);
    const [wPad, wIn] = windowCounts(aw);
    const area = ah.kernel * aw.kernel;
    const factors = new Float32Array(ah.out * aw.out);
    let uniform = true;
    for (let i = 0; i < ah.out; i++) {
      for (let j = 0; j < aw.out; j++) {
        const divisor =
          options.divisorOverride ??
          ((options.countIncludePad ?? true) ? hPad[i] * wPad[j] : hIn[i] * wIn[j]);
        factors[i * aw.out + j] = area / divisor;
        if (divisor !== area) uniform = false;
      }
    }
    if (uniform) return mean;
    return tf.mul(mean, tf.tensor4d(factors, [1, ah.out, aw.out, 1]));
  });
}

/**
 * Average pooling over NHWC input, as torch.nn.functional.avg_pool2d (zero padding,
 * `ceilMode`, `countIncludePad`, `divisorOverride`).
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - k) / s) + 1` (or ceil).
 */
export function avgPool2d(x: tf.Tensor, options: AvgPool2dFunctionOptions): tf.Tensor {
  return avgPoolWith(x, avgPoolGeometry('avgPool2d', x.shape, options), options);
}

/** An output size: one int, or `[h, w]` where null keeps that input size (PyTorch's None). */
export type AdaptiveSize = number | [number | null, number | null];

/** @internal The `[outH, outW]` of an adaptive pooling. */
export function adaptiveGeometry(where: string, input: Shape, outputSize: AdaptiveSize): Pair {
  expectNhwc(where, input);
  const pair = Array.isArray(outputSize) ? outputSize : [outputSize, outputSize];
  const ok =
    (!Array.isArray(outputSize) || outputSize.length === 2) &&
    pair.every((v) => v === null || (Number.isInteger(v) && (v as number) >= 1));
  if (!ok) {
    throw new Error(
      `${where}: expected outputSize to be a positive integer or a pair of them (null keeps the input size), received ${JSON.stringify(outputSize)}`,
    );
  }
  return [pair[0] ?? input[1], pair[1] ?? input[2]];
}

/** PyTorch's adaptive bins: start = floor(i * in / out), end = ceil((i + 1) * in / out). */
function adaptiveBins(size: number, out: number): Pair[] {
  const bins: Pair[] = [];
  for (let i = 0; i < out; i++) {
    bins.push([Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)]);
  }
  return bins;
}

/** `matrix` [out, in] applied along axis 1 or 2 of an NHWC tensor. */
function alongAxis(x: tf.Tensor, axis: 1 | 2, matrix: tf.Tensor2D): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const out = matrix.shape[0];
  if (axis === 1) {
    const moved = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c]);
    return tf.transpose(tf.reshape(tf.matMul(matrix, moved), [out, n, w, c]), [1, 0, 2, 3]);
  }
  const moved = tf.reshape(tf.transpose(x, [2, 0, 1, 3]), [w, n * h * c]);
  return tf.transpose(tf.reshape(tf.matMul(matrix, moved), [out, n, h, c]), [1, 2, 0, 3]);
}

/** @internal */
export function adaptiveAvgPoolWith(x: tf.Tensor, [oh, ow]: Pair): tf.Tensor {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    if (oh === 1 && ow === 1) return tf.mean(x, [1, 2], true);
    if (h % oh === 0 && w % ow === 0) {
      const k: Pair = [h / oh, w / ow];
      return tf.avgPool(x as tf.Tensor4D, k, k, 'valid');
    }
    // Overlapping bins of unequal sizes: averaging matrices per axis (separable, exact up to
    // float rounding, and the gradient is their transpose).
    let y = x;
    for (const [axis, size, out] of [
      [1, h, oh],
      [2, w, ow],
    ] as const) {
      if (size === out) continue;
      const m = new Float32Array(out * size);
      adaptiveBins(size, out).forEach(([s, e], i) => {
        for (let j = s; j < e; j++) m[i * size + j] = 1 / (e - s);
      });
      y = alongAxis(y, axis, tf.tensor2d(m, [out, size]));
    }
    return y;
  });
}

/**
 * Adaptive average pooling, as torch.nn.functional.adaptive_avg_pool2d.
 *
 * Shape: `[N, H, W, C]` -> `[N, outH, outW, C]`.
 */
export function adaptiveAvgPool2d(x: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return adaptiveAvgPoolWith(x, adaptiveGeometry('adaptiveAvgPool2d', x.shape, outputSize));
}

/** @internal */
export function adaptiveMaxPoolWith(x: tf.Tensor, [oh, ow]: Pair): tf.Tensor {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    if (h % oh === 0 && w % ow === 0) {
      const k: Pair = [h / oh, w / ow];
      return tf.maxPool(x as tf.Tensor4D, k, k, 'valid');
    }
    // A rectangle's maximum is the maximum over rows of the maxima over columns: bins per axis.
    const rows = adaptiveBins(h, oh).map(([s, e]) =>
      tf.max(tf.slice(x, [0, s, 0, 0], [n, e - s, w, c]), 1, true),
    );
    const byRow = rows.length === 1 ? rows[0] : tf.concat(rows, 1);
    const cols = adaptiveBins(w, ow).map(([s, e]) =>
      tf.max(tf.slice(byRow, [0, 0, s, 0], [n, oh, e - s, c]), 2, true),
    );
    return cols.length === 1 ? cols[0] : tf.concat(cols, 2);
  });
}

/**
 * Adaptive max pooling, as torch.nn.functional.adaptive_max_pool2d (without indices). On exact
 * ties inside a bin the gradient may differ from PyTorch's (first maximum only).
 *
 * Shape: `[N, H, W, C]` -> `[N, outH, outW, C]`.
 */
export function adaptiveMaxPool2d(x: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return adaptiveMaxPoolWith(x, adaptiveGeometry('adaptiveMaxPool2d', x.shape, outputSize));
}
