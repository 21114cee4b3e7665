// The kernel conformance suite of wasm-training-kernels.test.ts once more, with relaxed
// SIMD's fused multiply-add in convkit's GEMM, on 2 threads. Node 20 validates relaxed SIMD
// only behind a V8 flag (Node 22 and Chrome have it on); set here, before any module is
// compiled, in this test file's own process.
import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  hasRelaxedSimdFma,
  simdKernelFeatures,
  simdKernelWorkers,
  tuning,
} from './internal/wasm/simd-kernels';

setFlagsFromString('--experimental-wasm-relaxed-simd');
process.env.CONVKIT_WASM_THREADS = '2';
tuning.parallelMinMacs = 0;
await import('./wasm-training-kernels.test');

it('ran the suite with FMA on 2 threads', () => {
  expect(hasRelaxedSimdFma()).toBe(true);
  expect(tf.getBackend()).toBe('wasm');
  expect(simdKernelFeatures(tf.backend() as never).fma).toBe(true);
  expect(simdKernelWorkers(tf.backend() as never)?.threads).toBe(2);
});
