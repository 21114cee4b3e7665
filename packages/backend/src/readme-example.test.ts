// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks what it claims.
// The drift helper is imported from the tooling package's source by path: @convkit/tooling
// depends on this package, so a devDependency back would make a workspace cycle.
import { expect, it, vi } from 'vitest';
import { readmeExampleDrift } from '../../tooling/src/readme-example';

const log = vi.spyOn(console, 'log').mockImplementation(() => {});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import {
  formatBackendReport,
  globalRandom,
  manualSeed,
  selectBackend,
  withTensorScope,
} from '@convkit/backend';

const report = await selectBackend(); // Node: cuda -> tensorflow -> wasm -> cpu
console.log(formatBackendReport(report));
// backend: wasm (tfjs 'wasm', node)
// device: WebAssembly (SIMD, 2 threads)
// trains conv nets: yes
// wasm: SIMD, 2 threads
// kernels provided by convkit: Conv2DBackpropFilter, ...
// skipped cuda: ... needs the optional package @tensorflow/tfjs-node-gpu ... npm install ...

manualSeed(42); // one seed for initialization, dropout, shuffling and the draws below

const loss = await withTensorScope(async (scope) => {
  // globalRandom() draws on the CPU: the same x and w on every backend.
  const x = scope.track(globalRandom().normalTensor([8, 28, 28, 1])) as tf.Tensor4D;
  const w = scope.track(globalRandom().normalTensor([5, 5, 1, 6])) as tf.Tensor4D;
  const objective = (f: tf.Tensor) => tf.mean(tf.square(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')));
  const g = scope.track(tf.grad(objective)(w));
  const total = scope.track(tf.tidy(() => g.abs().sum()));
  return (await total.data())[0]; // every tracked tensor is disposed here
});
// README example end

const printed = log.mock.calls.map((call) => String(call[0]));
log.mockRestore();

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('picks wasm in Node without tfjs-node and prints the report the README shows', () => {
  expect(report.backend).toBe('wasm');
  expect(printed).toHaveLength(1);
  const lines = printed[0].split('\n');
  expect(lines[0]).toBe("backend: wasm (tfjs 'wasm', node)");
  // One thread per core by default; the test suite runs with CONVKIT_WASM_THREADS=1.
  const threads = Number(process.env.CONVKIT_WASM_THREADS);
  const count = `${threads} thread${threads === 1 ? '' : 's'}`;
  expect(lines[1]).toBe(`device: WebAssembly (SIMD, ${count})`);
  expect(lines).toContain(
    `wasm: SIMD, ${count}${threads === 1 ? ` (${report.wasm?.singleThreadReason})` : ''}`,
  );
  expect(lines).toContain('trains conv nets: yes');
  expect(printed[0]).toMatch(/kernels provided by convkit: Conv2DBackpropFilter, /);
  expect(printed[0]).toMatch(
    /skipped cuda: .*needs the optional package @tensorflow\/tfjs-node-gpu.*npm install/,
  );
});

it('computes a finite gradient norm and leaves no tensor behind', () => {
  expect(Number.isFinite(loss)).toBe(true);
  expect(loss).toBeGreaterThan(0);
  // This file runs in its own process: no tensor existed before the example.
  expect(tf.memory().numTensors).toBe(0);
});

it('is reproducible: the same seed gives the same gradient norm', async () => {
  manualSeed(42);
  const again = await withTensorScope(async (scope) => {
    const x = scope.track(globalRandom().normalTensor([8, 28, 28, 1])) as tf.Tensor4D;
    const w = scope.track(globalRandom().normalTensor([5, 5, 1, 6])) as tf.Tensor4D;
    const objective = (f: tf.Tensor) =>
      tf.mean(tf.square(tf.conv2d(x, f as tf.Tensor4D, 1, 'same')));
    const g = scope.track(tf.grad(objective)(w));
    const total = scope.track(tf.tidy(() => g.abs().sum()));
    return (await total.data())[0];
  });
  expect(again).toBe(loss);
});
