import { defineConfig } from 'vite';

// The workspace packages are consumed through their `source` export condition (as the tests
// do), so the app builds from their TypeScript without waiting for their dist. Every backend
// engine is imported dynamically by @convkit/backend, so each is its own chunk, loaded only when
// selected; the worker is an ES module worker with its own chunks.
export default defineConfig({
  resolve: { conditions: ['source', 'browser', 'module', 'import'] },
  worker: { format: 'es' },
  // convkit's errors name modules by their class (`LeNet5: ...`); keep the names when minifying.
  esbuild: { keepNames: true },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: true,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
