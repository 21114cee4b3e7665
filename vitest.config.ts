import { defineConfig } from 'vitest/config';

// One root config: every package's `*.test.ts` runs against its sources through the
// `source` export condition, so no build is needed for the unit tests.
export default defineConfig({
  resolve: {
    conditions: ['source'],
  },
  ssr: {
    resolve: {
      conditions: ['source'],
      externalConditions: ['source'],
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Test files run two at a time on CI's two cores: the wasm backend's threads would only
    // compete for them. Results are the same bits on any thread count (wasm-threads.test.ts);
    // the kernel conformance suite also runs on 2 threads (wasm-training-kernels.threads.test.ts).
    env: { CONVKIT_WASM_THREADS: '1' },
    reporters: ['default', './packages/tooling/src/summary-reporter.ts'],
  },
});
