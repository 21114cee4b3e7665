import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from '../reduction';

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throw when `options` has a key outside `allowed` or is not a plain object. */
export function checkOptions(fn: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: expected an options object, received ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new Error(
        `${fn}: unknown option '${key}'; expected one of ${allowed.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
}

export function checkReduction<R extends string = Reduction>(
  fn: string,
  reduction: string,
  allowed: readonly R[] = ['mean', 'sum', 'none'] as unknown as R[],
): R {
  if (!allowed.includes(reduction as R)) {
    throw new Error(
      `${fn}: unknown reduction '${String(reduction)}'; expected one of ${allowed.map((r) => `'${r}'`).join(', ')}`,
    );
  }
  return reduction as R;
}

export function checkTensor(fn: string, name: string, x: unknown, float = true): tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new Error(`${fn}: expected ${name} to be a tf.Tensor, received ${describe(x)}`);
  }
  if (x.isDisposed) throw new Error(`${fn}: ${name} is disposed`);
  if (float && x.dtype !== 'float32') {
    throw new Error(`${fn}: expected ${name} to be float32, received ${x.dtype}`);
  }
  return x;
}

export function checkNumber(
  fn: string,
  name: string,
  value: unknown,
  ok = (_v: number) => true,
  expected = 'a finite number',
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new Error(`${fn}: expected ${name} to be ${expected}, received ${String(value)}`);
  }
  return value;
}

export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  return typeof x === 'object'
    ? `a ${x.constructor?.name ?? 'object'}`
    : `${typeof x} ${String(x)}`;
}

/** Target must have exactly the input's shape. */
export function checkSameShape(fn: string, input: tf.Tensor, target: tf.Tensor): void {
  if (!tf.util.arraysEqual(input.shape, target.shape)) {
    throw new Error(
      `${fn}: target shape ${fmt(target.shape)} does not match input shape ${fmt(input.shape)} (expected ${fmt(input.shape)})`,
    );
  }
}

/**
 * A per-class or broadcast weight as a float32 tensor (created inside the caller's tidy).
 * `shape` checks: 'class' = exactly [C]; 'broadcast' = broadcastable to the input.
 */
export function weightTensor(
  fn: string,
  name: string,
  weight: tf.Tensor | ArrayLike<number> | undefined,
  input: tf.Tensor,
  kind: 'class' | 'broadcast',
): tf.Tensor | null {
  if (weight === undefined || weight === null) return null;
  let w: tf.Tensor;
  if (weight instanceof tf.Tensor) {
    w = weight.dtype === 'float32' ? weight : tf.cast(weight, 'float32');
  } else if (Array.isArray(weight) || ArrayBuffer.isView(weight)) {
    w = tf.tensor1d(Array.from(weight as ArrayLike<number>), 'float32');
  } else {
    throw new Error(
      `${fn}: expected ${name} to be a tf.Tensor or an array of numbers, received ${describe(weight)}`,
    );
  }
  const classes = input.shape[input.rank - 1];
  if (kind === 'class') {
    if (w.rank !== 1 || w.shape[0] !== classes) {
      throw new Error(
        `${fn}: ${name} shape ${fmt(w.shape)} does not match the ${classes} classes of input shape ${fmt(input.shape)} (expected [${classes}])`,
      );
    }
  } else {
    const ok =
      w.rank <= input.rank &&
      w.shape.every((d, i) => d === 1 || d === input.shape[input.rank - w.rank + i]);
    if (!ok) {
      throw new Error(
        `${fn}: ${name} shape ${fmt(w.shape)} does not broadcast to input shape ${fmt(input.shape)}`,
      );
    }
  }
  return w;
}

/**
 * Check class-index targets on the CPU (one small read-back): integers in [0, C) or equal to
 * `ignoreIndex`.
 */
export function checkClassTargets(
  fn: string,
  target: tf.Tensor,
  classes: number,
  ignoreIndex: number | null,
): void {
  const values = target.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ignoreIndex) continue;
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      const ignore = ignoreIndex === null ? '' : ` or ignoreIndex ${ignoreIndex}`;
      throw new Error(
        `${fn}: target value ${v} at flat index ${i} is out of range for ${classes} classes (expected an integer in [0, ${classes - 1}]${ignore})`,
      );
    }
  }
}

export function reduce(loss: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'mean') return tf.mean(loss);
  if (reduction === 'sum') return tf.sum(loss);
  return loss;
}

/** `tf.customGrad` with the tensor arguments typed (tfjs types them as a rest of unions). */
export function customGrad<A extends tf.Tensor[]>(
  f: (...args: [...A, tf.GradSaveFunc]) => {
    value: tf.Tensor;
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  },
): (...args: A) => tf.Tensor {
  const g = tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
  return g as unknown as (...args: A) => tf.Tensor;
}

/** |x| whose gradient is sign(x) (0 at 0, as PyTorch), not tfjs's -1 at 0. */
const absWithSignGrad = customGrad((v: tf.Tensor, save: tf.GradSaveFunc) => {
  save([v]);
  return {
    value: tf.abs(v),
    gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.sign(s)),
  };
});

export const absSignGrad = (x: tf.Tensor): tf.Tensor => absWithSignGrad(x);
