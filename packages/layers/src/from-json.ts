import { AdaptiveAvgPool2d } from './adaptive-avg-pool-2d';
import { AdaptiveMaxPool2d } from './adaptive-max-pool-2d';
import { AvgPool2d } from './avg-pool-2d';
import { ConvTranspose2d } from './conv-transpose-2d';
import { GlobalAvgPool2d } from './global-avg-pool-2d';
import { Identity } from './identity';
import { Unflatten } from './unflatten';
import { Upsample } from './upsample';
import { ZeroPad2d } from './zero-pad-2d';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool-2d';
import type { Module, ModuleJSON } from './module';
import { ReLU } from './relu';
import { Sequential } from './sequential';

/** The layer classes `moduleFromJSON` can rebuild, by `toJSON().type`. */
export const LAYER_TYPES: Readonly<Record<string, new (config: any) => Module>> = Object.freeze({
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  AvgPool2d,
  ConvTranspose2d,
  GlobalAvgPool2d,
  Identity,
  Unflatten,
  Upsample,
  ZeroPad2d,
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
