import { defineConvkitConfig } from '@convkit/tooling/tsup';

// An app, not a library: one ESM executable, no declarations.
export default defineConvkitConfig({
  // tune-objective.js: the module `tune --runner threads` loads in each worker thread.
  entry: ['src/cli.ts', 'src/tune-objective.ts'],
  format: ['esm'],
  dts: false,
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
