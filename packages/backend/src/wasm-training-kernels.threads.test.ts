// The kernel conformance suite of wasm-training-kernels.test.ts once more, with the wasm
// backend on 2 threads (tfjs's threaded XNNPACK build, started by wasm-node-threads.ts, and
// convkit's kernel workers): the suite's own setup starts the backend, after this file has
// asked for 2 threads. Every filter gradient, however small, is split between the threads.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { simdKernelWorkers, tuning } from './internal/wasm/simd-kernels';

process.env.CONVKIT_WASM_THREADS = '2';
tuning.parallelMinMacs = 0;
await import('./wasm-training-kernels.test');

it('ran the suite on 2 threads', async () => {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  expect(tf.getBackend()).toBe('wasm');
  expect(wasm.getThreadsCount()).toBe(2);
  expect(simdKernelWorkers(tf.backend() as never)?.threads).toBe(2);
});
