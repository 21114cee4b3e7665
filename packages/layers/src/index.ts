export { Conv2d, type Conv2dOptions } from './conv2d';
export { Flatten } from './flatten';
export { LAYER_TYPES, moduleFromJSON } from './from-json';
export type { IntOrPair } from './internal/pairs';
export { Linear, type LinearOptions } from './linear';
export { MaxPool2d, type MaxPool2dOptions } from './max-pool-2d';
export { type LoadStateDictResult, Module, type ModuleJSON, type Shape } from './module';
export { Buffer, Param, type ParamLayout } from './param';
export { ReLU } from './relu';
export { Sequential } from './sequential';
export { type ModelSummary, type SummaryRow, summary } from './summary';
export { AdaptiveAvgPool2d, type AdaptiveAvgPool2dOptions } from './adaptive-avg-pool-2d';
export { AdaptiveMaxPool2d, type AdaptiveMaxPool2dOptions } from './adaptive-max-pool-2d';
export { AvgPool2d, type AvgPool2dOptions } from './avg-pool-2d';
export { ConvTranspose2d, type ConvTranspose2dOptions } from './conv-transpose-2d';
export { GlobalAvgPool2d, type GlobalAvgPool2dOptions } from './global-avg-pool-2d';
export { Identity } from './identity';
export { Unflatten, type UnflattenOptions } from './unflatten';
export { Upsample, type UpsampleOptions } from './upsample';
export { ZeroPad2d, type ZeroPad2dOptions } from './zero-pad-2d';
export { type InterpolateOptions, interpolate } from './functional/interpolate';
export { type PadMode, type PadOptions, type Padding2d, pad } from './functional/padding';
export {
  type AdaptiveSize,
  type AvgPool2dFunctionOptions,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  avgPool2d,
  type MaxPool2dFunctionOptions,
  maxPool2d,
} from './functional/pooling';
