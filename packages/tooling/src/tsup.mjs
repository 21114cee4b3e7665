// Plain JS (not TS) because tsup loads configs through Node, which cannot import a linked .ts.
import { defineConfig } from 'tsup';

/**
 * The one build config every published package shares: ESM + CJS + declarations from
 * `src/index.ts`, tfjs and every `@convkit/*` package left external (one engine per app).
 * @param {import('tsup').Options} overrides
 */
export function defineConvkitConfig(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    // `import.meta.url` in the CJS build (used to locate optional peers' files in Node).
    shims: true,
    external: [/^@tensorflow\//, /^@convkit\//, 'webgpu', /^node:/],
    ...overrides,
  });
}
