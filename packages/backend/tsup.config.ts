import { defineConvkitConfig } from '@convkit/tooling/tsup';

export default defineConvkitConfig({
  // tfjs-core's Node entry registers no gradients and no chained ops, and these two files are
  // extension-less ESM that plain Node cannot load: bundle them. tfjs keeps its registries on
  // globalThis, so the bundled copy registers into the same engine as the external core.
  noExternal: [
    '@tensorflow/tfjs-core/dist/register_all_gradients',
    '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops',
  ],
});
