import type { Options } from 'tsup';
export declare function defineConvkitConfig(
  overrides?: Options,
): ReturnType<typeof import('tsup').defineConfig>;
