import { defineConvkitConfig } from '@convkit/tooling/tsup';

export default defineConvkitConfig({
  // `@convkit/backend/random`: the seeded random source without the backend loaders and kernels.
  entry: ['src/index.ts', 'src/random.ts'],
  // tfjs-core's Node entry registers no gradients and no chained ops, and these two files are
  // extension-less ESM that plain Node cannot load: bundle them. tfjs keeps its registries on
  // globalThis, so the bundled copy registers into the same engine as the external core.
  noExternal: [
    '@tensorflow/tfjs-core/dist/register_all_gradients',
    '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops',
  ],
});
