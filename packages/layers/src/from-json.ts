import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool-2d';
import type { Module, ModuleJSON } from './module';
import { ReLU } from './relu';
import { Sequential } from './sequential';

/** The layer classes `moduleFromJSON` can rebuild, by `toJSON().type`. */
export const LAYER_TYPES: Readonly<Record<string, new (config: any) => Module>> = Object.freeze({
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
});

/**
 * Rebuild an architecture from `module.toJSON()` (fresh parameters; load weights with
 * `loadStateDict`). Pass `types` to add your own classes. Class names are the type names, so a
 * minifying bundler must keep them (esbuild `keepNames`).
 */
export function moduleFromJSON(json: ModuleJSON, types = LAYER_TYPES): Module {
  const Type = types[json?.type];
  if (!Type) {
    throw new Error(
      `moduleFromJSON: unknown module type '${json?.type}'; expected one of ${Object.keys(types).join(', ')}`,
    );
  }
  if (Type === Sequential) {
    return new Sequential(...(json.children ?? []).map((child) => moduleFromJSON(child, types)));
  }
  return new Type(json.config);
}
