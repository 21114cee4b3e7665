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
    reporters: ['default', './packages/tooling/src/summary-reporter.ts'],
  },
});
