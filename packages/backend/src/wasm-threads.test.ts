// The wasm backend on several threads in Node (tfjs's threaded XNNPACK build, started by
// internal/wasm-node-threads.ts): every kernel gives the same bits as on one thread, nothing
// leaks, and the process still ends by itself. Each thread count needs its own process (the
// backend starts once per process), so a bundled child runs the kernels.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
// By path, as readme-example.test.ts: @convkit/tooling depends on this package.
import { bundleForNode } from '../../tooling/src/node-child';
import { selectBackend } from './select-backend';

const here = dirname(fileURLToPath(import.meta.url));
let child: string;

interface ChildResult {
  threads: number;
  reason?: string;
  kernelThreads: number;
  kernelThreadsReason?: string;
  xnnpackThreads: number;
  xnnpackPool: number;
  formatted: string;
  fma: boolean;
  simdHelpers: boolean;
  hashes: Record<string, string>;
  leaked: number;
}

/** Run the child on `threads` threads; it must end by itself within the timeout. */
async function runKernels(
  threads: number,
  env: NodeJS.ProcessEnv = {},
  nodeFlags: string[] = [],
): Promise<ChildResult> {
  const args = [...nodeFlags, child, String(threads)];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    timeout: 90_000,
    env: { ...process.env, CONVKIT_WASM_THREADS: '', ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as ChildResult;
}

beforeAll(async () => {
  // Inside the package, so the bundle resolves tfjs-backend-wasm's .wasm files from it.
  const out = join(here, '..', 'node_modules', '.convkit-test');
  await mkdir(out, { recursive: true });
  child = await bundleForNode(
    join(here, '__fixtures__', 'wasm-threads-child.ts'),
    join(out, 'wasm-threads-child.mjs'),
  );
});

describe('wasm backend threads in Node', () => {
  it('gives every kernel the same bits on 2 and 3 threads as on 1, leaks nothing, and exits', async () => {
    const one = await runKernels(1);
    const two = await runKernels(2);
    const three = await runKernels(3);
    expect(one.threads).toBe(1);
    expect(one.reason).toMatch(/one thread requested/);
    expect(two.threads).toBe(2);
    expect(two.reason).toBeUndefined();
    expect(three.threads).toBe(3);
    // convkit's own kernels (the filter gradient) run on workers over the shared heap.
    expect([one.kernelThreads, two.kernelThreads, three.kernelThreads]).toEqual([1, 2, 3]);
    expect(two.kernelThreadsReason).toBeUndefined();
    // XNNPACK keeps one thread once convkit's workers have the other cores.
    expect([one.xnnpackThreads, two.xnnpackThreads, three.xnnpackThreads]).toEqual([1, 1, 1]);
    expect([one.xnnpackPool, two.xnnpackPool, three.xnnpackPool]).toEqual([1, 1, 1]);
    expect(two.formatted).toContain("XNNPACK: 1 thread (convkit's kernels have the other cores)");
    expect(one.formatted).not.toContain('XNNPACK:');
    expect([one.simdHelpers, two.simdHelpers, three.simdHelpers]).toEqual([true, true, true]);
    expect(Object.keys(one.hashes)).toHaveLength(32);
    expect(two.hashes).toEqual(one.hashes);
    expect(three.hashes).toEqual(one.hashes);
    expect([one.leaked, two.leaked, three.leaked]).toEqual([0, 0, 0]);
  });

  it('uses relaxed-SIMD FMA where the runtime has it, with the same bits on any thread count', async () => {
    // Node 20 validates relaxed SIMD only behind this V8 flag (Node 22 and Chrome have it on).
    const flag = ['--experimental-wasm-relaxed-simd'];
    const plain = await runKernels(1);
    const one = await runKernels(1, {}, flag);
    const two = await runKernels(2, {}, flag);
    expect(plain.fma).toBe(false);
    expect([one.fma, two.fma]).toEqual([true, true]);
    expect(two.kernelThreads).toBe(2);
    expect(two.hashes).toEqual(one.hashes);
    // convkit's convolution, filter-gradient and matrix kernels fuse; XNNPACK's give the plain
    // build's bits.
    for (const name of [
      'convForward',
      'convDirectForward',
      'convDirectInputGrad',
      'convPartForward',
      'convFilterGrad',
      'convPlanarFilterGrad',
      'matMul',
      'matMulGradA',
      'matMulGradB',
    ]) {
      expect(one.hashes[name]).not.toBe(plain.hashes[name]);
    }
    for (const name of ['depthwiseInputGrad', 'maxPoolGrad']) {
      expect(one.hashes[name]).toBe(plain.hashes[name]);
    }
    expect([one.leaked, two.leaked]).toEqual([0, 0]);
  });

  it('starts on one thread, saying why, when the threaded build cannot start', async () => {
    // The worker scripts go to the temp directory; one that does not exist fails the start.
    const one = await runKernels(1);
    const fallback = await runKernels(2, { TMPDIR: join(here, 'no-such-directory') });
    expect(fallback.threads).toBe(1);
    expect(fallback.reason).toMatch(/^the threaded build did not start: .*no-such-directory/);
    expect(fallback.simdHelpers).toBe(true);
    expect(fallback.hashes).toEqual(one.hashes);
    expect(fallback.leaked).toBe(0);
  });

  it('refuses a thread count that is not a whole number of at least 1, naming it', async () => {
    await expect(selectBackend({ backend: 'wasm', threads: 0 })).rejects.toThrow(
      /selectBackend: threads must be a whole number of at least 1, received 0/,
    );
    await expect(selectBackend({ backend: 'wasm', threads: 1.5 })).rejects.toThrow(
      /threads must be a whole number of at least 1, received 1.5/,
    );
    process.env.CONVKIT_WASM_THREADS = 'many';
    try {
      await expect(selectBackend({ backend: 'wasm' })).rejects.toThrow(
        /CONVKIT_WASM_THREADS \('many'\) must be a whole number of at least 1, received NaN/,
      );
    } finally {
      delete process.env.CONVKIT_WASM_THREADS;
    }
  });
});
