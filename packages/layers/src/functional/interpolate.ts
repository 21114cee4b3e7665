/**
 * Resizing of NHWC tensors, after torch.nn.functional.interpolate; `Upsample` calls it. Forward
 * and gradient match PyTorch 1.13 (no tfjs resize kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type IntOrPair, toPair } from '../int-or-pair';
import type { Shape } from '../module';

const AXES = ['H', 'W'] as const;

function expectNhwc(where: string, shape: Shape): void {
  if (shape.length !== 4) {
    throw new Error(`${where}: expected a rank-4 NHWC input, received shape [${shape}]`);
  }
}

export interface InterpolateOptions {
  /** Output `[H, W]` (or one int for both). Give this or `scaleFactor`. */
  size?: IntOrPair;
  /** Output = floor(input * scaleFactor) per axis. Give this or `size`. */
  scaleFactor?: number | [number, number];
  /** Default 'nearest'. */
  mode?: 'nearest' | 'bilinear';
  /** Bilinear only: map corner pixel centers onto each other. Default false. */
  alignCorners?: boolean;
}

/** @internal Per axis: output size and the scale PyTorch passes to its kernels (or undefined). */
export interface InterpolateAxis {
  size: number;
  out: number;
  scale?: number;
}

/** @internal */
export function interpolateGeometry(
  where: string,
  input: Shape,
  options: InterpolateOptions,
): [InterpolateAxis, InterpolateAxis] {
  const { size, scaleFactor, mode = 'nearest', alignCorners } = options;
  if (mode !== 'nearest' && mode !== 'bilinear') {
    throw new Error(
      `${where}: expected mode 'nearest' or 'bilinear', received ${JSON.stringify(mode)}`,
    );
  }
  if (mode === 'nearest' && alignCorners !== undefined && alignCorners !== null) {
    throw new Error(
      `${where}: alignCorners only applies to mode 'bilinear', received mode 'nearest'`,
    );
  }
  if (
    (size === undefined || size === null) === (scaleFactor === undefined || scaleFactor === null)
  ) {
    throw new Error(
      `${where}: expected exactly one of size and scaleFactor, received size ${JSON.stringify(size)} and scaleFactor ${JSON.stringify(scaleFactor)}`,
    );
  }
  expectNhwc(where, input);
  if (size !== undefined && size !== null) {
    const pair = toPair(where, 'size', size);
    return [0, 1].map((i) => ({ size: input[i + 1], out: pair[i] })) as [
      InterpolateAxis,
      InterpolateAxis,
    ];
  }
  const scales = Array.isArray(scaleFactor) ? scaleFactor : [scaleFactor, scaleFactor];
  if (
    (Array.isArray(scaleFactor) && scaleFactor.length !== 2) ||
    !scales.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0)
  ) {
    throw new Error(
      `${where}: expected scaleFactor to be a positive number or a pair of them, received ${JSON.stringify(scaleFactor)}`,
    );
  }
  return [0, 1].map((i) => {
    const out = Math.floor(input[i + 1] * (scales[i] as number));
    if (out < 1) {
      throw new Error(
        `${where}: scaleFactor ${JSON.stringify(scaleFactor)} gives an empty output on axis ${AXES[i]} of input shape [${input}]`,
      );
    }
    return { size: input[i + 1], out, scale: scales[i] as number };
  }) as [InterpolateAxis, InterpolateAxis];
}

const f32 = Math.fround;

/** PyTorch's compute_scales_value in float32: 1 / scale when given, else in / out. */
const scaleOf = (a: InterpolateAxis) =>
  a.scale !== undefined && a.scale > 0 ? f32(1 / a.scale) : f32(a.size / a.out);

/** PyTorch's nearest source index: min(floor(dst * scale), in - 1), in float32. */
function nearestIndices(a: InterpolateAxis): number[] {
  const scale = scaleOf(a);
  return Array.from({ length: a.out }, (_, o) => {
    if (a.out === a.size) return o;
    if (a.out === 2 * a.size) return o >> 1;
    return Math.min(Math.floor(f32(o * scale)), a.size - 1);
  });
}

/** PyTorch's linear source indices and weights (compute_source_index_and_lambda), in float32. */
function linearTaps(a: InterpolateAxis, alignCorners: boolean) {
  const i0: number[] = [];
  const i1: number[] = [];
  const l0: number[] = [];
  const l1: number[] = [];
  const scale = alignCorners ? (a.out > 1 ? f32((a.size - 1) / (a.out - 1)) : 0) : scaleOf(a);
  for (let o = 0; o < a.out; o++) {
    if (a.out === a.size) {
      i0.push(o);
      i1.push(o);
      l0.push(1);
      l1.push(0);
      continue;
    }
    let src = alignCorners ? f32(scale * o) : f32(f32(scale * f32(o + 0.5)) - 0.5);
    if (!alignCorners && src < 0) src = 0;
    const j = Math.floor(src);
    const lambda = f32(Math.min(Math.max(f32(src - j), 0), 1));
    i0.push(j);
    i1.push(j < a.size - 1 ? j + 1 : j);
    l1.push(lambda);
    l0.push(f32(1 - lambda));
  }
  return { i0, i1, l0, l1 };
}

/** @internal */
export function interpolateWith(
  x: tf.Tensor,
  axes: [InterpolateAxis, InterpolateAxis],
  mode: 'nearest' | 'bilinear',
  alignCorners: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    let y = x;
    // W first, then H: the order of PyTorch's separable loop (H outermost), so the rounding
    // matches; gathers are exact and their gradient is a segment sum.
    for (const axis of [2, 1] as const) {
      const a = axes[axis - 1];
      if (mode === 'nearest') {
        if (a.out === a.size) continue;
        y = tf.gather(y, tf.tensor1d(nearestIndices(a), 'int32'), axis);
        continue;
      }
      if (a.out === a.size) continue;
      const { i0, i1, l0, l1 } = linearTaps(a, alignCorners);
      const shape = axis === 1 ? [1, a.out, 1, 1] : [1, 1, a.out, 1];
      y = tf.add(
        tf.mul(tf.gather(y, tf.tensor1d(i0, 'int32'), axis), tf.tensor(l0, shape)),
        tf.mul(tf.gather(y, tf.tensor1d(i1, 'int32'), axis), tf.tensor(l1, shape)),
      );
    }
    return y === x ? tf.clone(x) : y;
  });
}

/**
 * Resize the spatial axes, as torch.nn.functional.interpolate (modes 'nearest', with PyTorch's
 * floor(dst * scale) rule, and 'bilinear' with `alignCorners` true or false). With `scaleFactor`
 * PyTorch's index arithmetic uses 1 / scaleFactor (recompute_scale_factor unset), as here.
 * Forward and gradient are exact (gathers and fixed weights, no tfjs resize kernels).
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`.
 */
export function interpolate(x: tf.Tensor, options: InterpolateOptions): tf.Tensor {
  const axes = interpolateGeometry('interpolate', x.shape, options);
  return interpolateWith(x, axes, options.mode ?? 'nearest', options.alignCorners ?? false);
}
