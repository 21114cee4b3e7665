// Browser-safe: the WebGPU test pages bundle this file, so it imports nothing from node:*.
import { type BackendName, selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';

/** Backends every numeric test runs on in Node (webgpu runs in the browser suite). */
export const NODE_TEST_BACKENDS: BackendName[] = ['cpu', 'wasm'];

/** Relative tolerance per backend used by fixture comparisons (see ARCHITECTURE.md). */
export const RTOL: Record<string, number> = { cpu: 1e-5, wasm: 1e-4, webgpu: 1e-3 };

/** Switch tfjs to `backend` through convkit's selector (gradients registered, kernels patched). */
export async function useBackend(backend: BackendName): Promise<void> {
  if (tf.getBackend() === backend) return;
  await selectBackend({ backend });
}

export interface CloseOptions {
  /** Relative tolerance: |a - b| <= atol + rtol * |b|. */
  rtol?: number;
  /** Absolute tolerance, for values near zero. */
  atol?: number;
}

/** Where two arrays differ most, or null when they are close everywhere. */
export function findMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: CloseOptions = {},
): string | null {
  if (actual.length !== expected.length) {
    return `length ${actual.length} differs from expected length ${expected.length}`;
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (
      Number.isNaN(a) !== Number.isNaN(b) ||
      excess > worstExcess ||
      (Number.isNaN(excess) && a !== b)
    ) {
      if (!(Number.isNaN(a) && Number.isNaN(b))) {
        worst = i;
        worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      }
    }
  }
  if (worst < 0) return null;
  return `at index ${worst}: received ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`;
}

/** Throw with the worst index when `actual` and `expected` are not close. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: CloseOptions & { label?: string } = {},
): void {
  const mismatch = findMismatch(actual, expected, options);
  if (mismatch) throw new Error(`${options.label ?? 'allClose'}: ${mismatch}`);
}

/** Read a tensor's values as a plain Float32Array-like (the tensor is not disposed). */
export async function valuesOf(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}
