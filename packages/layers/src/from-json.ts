import { AdaptiveAvgPool2d } from './adaptive-avg-pool-2d';
import { AdaptiveMaxPool2d } from './adaptive-max-pool-2d';
import { Add } from './add';
import { AvgPool2d } from './avg-pool-2d';
import { BatchNorm1d } from './batch-norm-1d';
import { BatchNorm2d } from './batch-norm-2d';
import { CELU } from './celu';
import { Concat } from './concat';
import { ConvTranspose2d } from './conv-transpose-2d';
import { Conv2d } from './conv2d';
import { Dropout } from './dropout';
import { Dropout1d } from './dropout-1d';
import { Dropout2d } from './dropout-2d';
import { ELU } from './elu';
import { Flatten } from './flatten';
import { GELU } from './gelu';
import { GlobalAvgPool2d } from './global-avg-pool-2d';
import { GroupNorm } from './group-norm';
import { Hardsigmoid } from './hardsigmoid';
import { Hardswish } from './hardswish';
import { Hardtanh } from './hardtanh';
import { Identity } from './identity';
import { InstanceNorm2d } from './instance-norm-2d';
import { LayerNorm } from './layer-norm';
import { LeakyReLU } from './leaky-relu';
import { Linear } from './linear';
import { LocalResponseNorm } from './local-response-norm';
import { LogSigmoid } from './log-sigmoid';
import { LogSoftmax } from './log-softmax';
import { MaxPool2d } from './max-pool-2d';
import { MaxUnpool2d } from './max-unpool-2d';
import { Mish } from './mish';
import type { AnyModule, Module, ModuleJSON } from './module';
import { PixelShuffle } from './pixel-shuffle';
import { PixelUnshuffle } from './pixel-unshuffle';
import { PReLU } from './prelu';
import { ReLU } from './relu';
import { ReLU6 } from './relu6';
import { SELU } from './selu';
import { Sequential } from './sequential';
import { Sigmoid } from './sigmoid';
import { SiLU } from './silu';
import { Softmax } from './softmax';
import { Softplus } from './softplus';
import { SqueezeExcitation } from './squeeze-excitation';
import { Tanh } from './tanh';
import { Unflatten } from './unflatten';
import { Upsample } from './upsample';
import { ZeroPad2d } from './zero-pad-2d';

/** Module classes by `toJSON().type`, for `moduleFromJSON`. */
export type ModuleTypes = Readonly<Record<string, new (config: any) => AnyModule>>;

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
  MaxUnpool2d,
  PixelShuffle,
  PixelUnshuffle,
  Add,
  BatchNorm1d,
  BatchNorm2d,
  Concat,
  Dropout,
  Dropout2d,
  ELU,
  GELU,
  GroupNorm,
  Hardsigmoid,
  Hardswish,
  InstanceNorm2d,
  LayerNorm,
  LeakyReLU,
  LocalResponseNorm,
  LogSoftmax,
  Mish,
  PReLU,
  ReLU6,
  SELU,
  Sigmoid,
  SiLU,
  Softmax,
  SqueezeExcitation,
  Tanh,
  CELU,
  Dropout1d,
  Hardtanh,
  LogSigmoid,
  Softplus,
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
 * minifying bundler must keep them (esbuild `keepNames`). Typed as a module with one tensor
 * output; name another type for models with several (`moduleFromJSON<GoogLeNet>(json, types)`).
 */
export function moduleFromJSON<M extends AnyModule = Module>(
  json: ModuleJSON,
  types: ModuleTypes = LAYER_TYPES,
): M {
  // An own key only: `constructor`, `toString` or `__proto__` are unknown types, not Object's.
  const Type =
    typeof json?.type === 'string' && Object.hasOwn(types, json.type)
      ? types[json.type]
      : undefined;
  if (!Type) {
    throw new Error(
      `moduleFromJSON: unknown module type '${json?.type}'; expected one of ${Object.keys(types).join(', ')}`,
    );
  }
  if (Type === Sequential) {
    // A Sequential only ever held modules that pass one tensor along.
    const children = (json.children ?? []).map((child) => moduleFromJSON(child, types));
    return new Sequential(...children) as AnyModule as M;
  }
  return new Type(json.config) as M;
}
