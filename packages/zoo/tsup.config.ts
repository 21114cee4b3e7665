import { defineConvkitConfig } from '@convkit/tooling/tsup';

// keepNames: `toJSON().type` is the class name, which ZOO_MODULE_TYPES maps back to the class;
// without it esbuild renames a class that refers to itself (`Bottleneck` -> `_Bottleneck`).
export default defineConvkitConfig({ keepNames: true });
