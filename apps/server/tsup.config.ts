import { defineConvkitConfig } from '@convkit/tooling/tsup';

// An app, not a library: one ESM executable, no declarations.
export default defineConvkitConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
