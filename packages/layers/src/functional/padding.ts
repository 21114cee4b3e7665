/** Padding of NHWC tensors, after torch.nn.functional.pad; `ZeroPad2d` and `Conv2d` padding modes call it. */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../module';

type Pair = [number, number];
const AXES = ['H', 'W'] as const;

function expectNhwc(where: string, shape: Shape): void {
  if (shape.length !== 4) {
    throw new Error(`${where}: expected a rank-4 NHWC input, received shape [${shape}]`);
  }
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

export interface PadOptions {
  /** Default 'constant'. */
  mode?: PadMode;
  /** Fill value of 'constant'. Default 0. */
  value?: number;
}

/** `[left, right, top, bottom]` (PyTorch's order for the last two axes of NCHW). */
export type Padding2d = number | [number, number, number, number];

/** @internal Normalize and validate a 2-D padding; returns `[[top, bottom], [left, right]]`. */
export function padGeometry(
  where: string,
  input: Shape,
  padding: Padding2d,
  mode: PadMode = 'constant',
): [Pair, Pair] {
  expectNhwc(where, input);
  const four = typeof padding === 'number' ? [padding, padding, padding, padding] : padding;
  if (!Array.isArray(four) || four.length !== 4 || !four.every((p) => Number.isInteger(p))) {
    throw new Error(
      `${where}: expected padding to be an integer or [left, right, top, bottom], received ${JSON.stringify(padding)}`,
    );
  }
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new Error(
      `${where}: expected mode 'constant', 'reflect', 'replicate' or 'circular', received ${JSON.stringify(mode)}`,
    );
  }
  const pads: [Pair, Pair] = [
    [four[2], four[3]],
    [four[0], four[1]],
  ];
  for (let i = 0; i < 2; i++) {
    const size = input[i + 1];
    const [before, after] = pads[i];
    if (mode !== 'constant' && (before < 0 || after < 0)) {
      throw new Error(
        `${where}: negative padding needs mode 'constant', received ${JSON.stringify(padding)}`,
      );
    }
    if (size + before + after < 1) {
      throw new Error(
        `${where}: padding ${JSON.stringify(padding)} leaves no element on axis ${AXES[i]} of input shape [${input}]`,
      );
    }
    if (mode === 'reflect' && (before >= size || after >= size)) {
      throw new Error(
        `${where}: reflect padding must be smaller than the input on axis ${AXES[i]}, received padding ${JSON.stringify(padding)} for input shape [${input}]`,
      );
    }
    if (mode === 'circular' && (before > size || after > size)) {
      throw new Error(
        `${where}: circular padding must be at most the input size on axis ${AXES[i]}, received padding ${JSON.stringify(padding)} for input shape [${input}]`,
      );
    }
  }
  return pads;
}

/** Source index of each padded position for the non-constant modes. */
function padIndices(size: number, before: number, after: number, mode: PadMode): number[] {
  const out: number[] = [];
  for (let i = -before; i < size + after; i++) {
    if (mode === 'reflect') {
      const period = 2 * (size - 1);
      let j = period === 0 ? 0 : ((i % period) + period) % period;
      if (j >= size) j = period - j;
      out.push(j);
    } else if (mode === 'replicate') {
      out.push(Math.min(Math.max(i, 0), size - 1));
    } else {
      out.push(((i % size) + size) % size);
    }
  }
  return out;
}

/** @internal */
export function padWith(x: tf.Tensor, pads: [Pair, Pair], mode: PadMode, value: number): tf.Tensor {
  if (pads.every(([b, a]) => b === 0 && a === 0)) return tf.clone(x);
  return tf.tidy(() => {
    if (mode === 'constant') {
      const grow = pads.map(([b, a]) => [Math.max(b, 0), Math.max(a, 0)] as Pair);
      let y = tf.pad(x, [[0, 0], grow[0], grow[1], [0, 0]], value);
      if (pads.some(([b, a]) => b < 0 || a < 0)) {
        const begin = [0, ...pads.map(([b]) => Math.max(-b, 0)), 0];
        const size = [-1, ...pads.map(([b, a], i) => x.shape[i + 1] + b + a), -1];
        y = tf.slice(y, begin, size);
      }
      return y;
    }
    // Gather with the source index of every padded position: exact, and its gradient (a segment
    // sum) adds the reflected / replicated / wrapped cells back, as PyTorch's does.
    let y = x;
    for (let i = 0; i < 2; i++) {
      const [before, after] = pads[i];
      if (before === 0 && after === 0) continue;
      const indices = tf.tensor1d(padIndices(x.shape[i + 1], before, after, mode), 'int32');
      y = tf.gather(y, indices, i + 1);
    }
    return y;
  });
}

/**
 * Pad the spatial axes of an NHWC tensor, as torch.nn.functional.pad with a 4-element pad on
 * NCHW: `padding` is `[left, right, top, bottom]` (or one int for all four). Modes `constant`
 * (negative amounts crop), `reflect`, `replicate` and `circular`.
 *
 * Shape: `[N, H, W, C]` -> `[N, H + top + bottom, W + left + right, C]`.
 */
export function pad(x: tf.Tensor, padding: Padding2d, options: PadOptions = {}): tf.Tensor {
  const mode = options.mode ?? 'constant';
  return padWith(x, padGeometry('pad', x.shape, padding, mode), mode, options.value ?? 0);
}
