// The kernel conformance suite of wasm-training-kernels.test.ts once more, with the wasm
// backend on 2 threads (tfjs's threaded XNNPACK build, started by wasm-node-threads.ts): the
// suite's own setup starts the backend, after this file has asked for 2 threads.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

process.env.CONVKIT_WASM_THREADS = '2';
await import('./wasm-training-kernels.test');

it('ran the suite on 2 threads', async () => {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  expect(tf.getBackend()).toBe('wasm');
  expect(wasm.getThreadsCount()).toBe(2);
});
