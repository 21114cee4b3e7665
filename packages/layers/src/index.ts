export type { ParamLayout } from '@convkit/backend';
export { AdaptiveAvgPool2d, type AdaptiveAvgPool2dOptions } from './adaptive-avg-pool-2d';
export { AdaptiveMaxPool2d, type AdaptiveMaxPool2dOptions } from './adaptive-max-pool-2d';
export { Add } from './add';
export { AvgPool2d, type AvgPool2dOptions } from './avg-pool-2d';
export { BatchNorm1d, type BatchNorm1dOptions } from './batch-norm-1d';
export { BatchNorm2d, type BatchNorm2dOptions } from './batch-norm-2d';
export { CELU, type CELUOptions } from './celu';
export { Concat, type ConcatOptions } from './concat';
export { ConvTranspose2d, type ConvTranspose2dOptions } from './conv-transpose-2d';
export { Conv2d, type Conv2dOptions } from './conv2d';
export { Dropout, type DropoutOptions } from './dropout';
export { Dropout1d, type Dropout1dOptions } from './dropout-1d';
export { Dropout2d, type Dropout2dOptions } from './dropout-2d';
export { ELU, type ELUOptions } from './elu';
export { Flatten } from './flatten';
export { LAYER_TYPES, type ModuleTypes, moduleFromJSON } from './from-json';
export {
  celu,
  elu,
  gelu,
  hardsigmoid,
  hardswish,
  hardtanh,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  mish,
  prelu,
  relu,
  relu6,
  SELU_ALPHA,
  SELU_SCALE,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  tanh,
} from './functional/activations';
export { dropout, dropout1d, dropout2d } from './functional/dropout';
export { type InterpolateOptions, interpolate } from './functional/interpolate';
export { batchNorm, groupNorm, layerNorm, localResponseNorm } from './functional/normalization';
export { type Padding2d, type PadMode, type PadOptions, pad } from './functional/padding';
export { pixelShuffle, pixelUnshuffle } from './functional/pixel-shuffle';
export {
  type AdaptiveSize,
  type AvgPool2dFunctionOptions,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  avgPool2d,
  type MaxPool2dFunctionOptions,
  type MaxUnpool2dFunctionOptions,
  maxPool2d,
  maxPool2dWithIndices,
  maxUnpool2d,
} from './functional/pooling';
export { GELU, type GELUOptions } from './gelu';
export { GlobalAvgPool2d, type GlobalAvgPool2dOptions } from './global-avg-pool-2d';
export { GroupNorm, type GroupNormOptions } from './group-norm';
export { Hardsigmoid } from './hardsigmoid';
export { Hardswish } from './hardswish';
export { Hardtanh, type HardtanhOptions } from './hardtanh';
export { Identity } from './identity';
export { InstanceNorm2d, type InstanceNorm2dOptions } from './instance-norm-2d';
export type { IntOrPair } from './int-or-pair';
export {
  type ActivationGradient,
  activationGradient,
  type ForwardWithActivations,
  forwardWithActivations,
} from './intermediate';
export {
  type ArgumentsOf,
  type LayerArguments,
  LayerSignature,
  layerSignature,
  nearestName,
  refuseUnknownOptions,
  unknownNameMessage,
} from './layer-arguments';
export { LayerNorm, type LayerNormOptions } from './layer-norm';
export { LeakyReLU, type LeakyReLUOptions } from './leaky-relu';
export { Linear, type LinearOptions } from './linear';
export { LocalResponseNorm, type LocalResponseNormOptions } from './local-response-norm';
export { LogSigmoid } from './log-sigmoid';
export { LogSoftmax, type LogSoftmaxOptions } from './log-softmax';
export { MaxPool2d, type MaxPool2dOptions } from './max-pool-2d';
export { MaxUnpool2d, type MaxUnpool2dOptions } from './max-unpool-2d';
export { Mish } from './mish';
export {
  type AnyModule,
  type ForwardHook,
  type HookHandle,
  type LoadStateDictResult,
  Module,
  type ModuleJSON,
  type Shape,
} from './module';
export { type ConvOutputSizeOptions, convOutputSize } from './output-size';
export { Buffer, Param } from './param';
export { PixelShuffle, type PixelShuffleOptions } from './pixel-shuffle';
export { PixelUnshuffle, type PixelUnshuffleOptions } from './pixel-unshuffle';
export { PReLU, type PReLUOptions } from './prelu';
export { ReLU } from './relu';
export { ReLU6 } from './relu6';
export { SELU } from './selu';
export { Sequential } from './sequential';
export { Sigmoid } from './sigmoid';
export { SiLU } from './silu';
export { Softmax, type SoftmaxOptions } from './softmax';
export { Softplus, type SoftplusOptions } from './softplus';
export {
  SqueezeExcitation,
  type SqueezeExcitationActivation,
  type SqueezeExcitationOptions,
} from './squeeze-excitation';
export { type ModelSummary, type SummaryRow, summary } from './summary';
export { Tanh } from './tanh';
export { Unflatten, type UnflattenOptions } from './unflatten';
export { Upsample, type UpsampleOptions } from './upsample';
export { ZeroPad2d, type ZeroPad2dOptions } from './zero-pad-2d';
