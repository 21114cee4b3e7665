import * as tf from '@tensorflow/tfjs-core';
import type { MetricInput } from '../metric-input';
import { describe, fmt } from './checks';

export interface Read {
  values: ArrayLike<number>;
  shape: number[];
}

/** Values and shape of a tensor or a (nested, rectangular) array. Creates no tensors. */
export async function read(fn: string, name: string, x: MetricInput): Promise<Read> {
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) throw new Error(`${fn}: ${name} is disposed`);
    return { values: (await x.data()) as ArrayLike<number>, shape: x.shape };
  }
  if (ArrayBuffer.isView(x))
    return { values: x as ArrayLike<number>, shape: [(x as ArrayLike<number>).length] };
  if (Array.isArray(x)) {
    if (x.length > 0 && typeof x[0] === 'object' && x[0] !== null) {
      const rows = x as ArrayLike<number>[];
      const width = rows[0].length;
      const values: number[] = [];
      rows.forEach((row, i) => {
        const r = row;
        if (r.length !== width) {
          throw new Error(
            `${fn}: ${name} row ${i} has ${r.length} values, row 0 has ${width} (expected a rectangular array)`,
          );
        }
        for (let j = 0; j < r.length; j++) values.push(r[j]);
      });
      return { values, shape: [rows.length, width] };
    }
    return { values: x as number[], shape: [x.length] };
  }
  throw new Error(`${fn}: expected ${name} to be a tf.Tensor or an array, received ${describe(x)}`);
}

/**
 * Predicted labels from `input` for class-index `target`: the input holds either labels of
 * the target's shape, or scores with one more (last, class) axis, reduced by argmax
 * (the first maximum on ties, as torch.argmax).
 */
export function labelsOf(
  fn: string,
  input: Read,
  target: Read,
): { labels: Int32Array; classes: number | null } {
  const same =
    input.shape.length === target.shape.length &&
    input.shape.every((d, i) => d === target.shape[i]);
  if (same) return { labels: Int32Array.from(input.values), classes: null };
  const scores =
    input.shape.length === target.shape.length + 1 &&
    target.shape.every((d, i) => d === input.shape[i]);
  if (!scores) {
    throw new Error(
      `${fn}: input shape ${fmt(input.shape)} does not match target shape ${fmt(target.shape)} (expected ${fmt(target.shape)} for labels or [${[...target.shape, 'C'].join(', ')}] for scores)`,
    );
  }
  const c = input.shape[input.shape.length - 1];
  const n = target.values.length;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (input.values[i * c + j] > input.values[i * c + best]) best = j;
    labels[i] = best;
  }
  return { labels, classes: c };
}

export function checkLabels(
  fn: string,
  name: string,
  labels: ArrayLike<number>,
  classes: number,
  ignore: number | null = null,
): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v === ignore) continue;
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new Error(
        `${fn}: ${name} value ${v} at flat index ${i} is out of range for ${classes} classes (expected an integer in [0, ${classes - 1}])`,
      );
    }
  }
}

export function checkNumClasses(fn: string, numClasses: unknown): number {
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1) {
    throw new Error(
      `${fn}: expected numClasses to be a positive integer, received ${String(numClasses)}`,
    );
  }
  return numClasses as number;
}
