export {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendName,
  CONV_TRAINING_KERNELS,
  currentPlatform,
  type Platform,
} from './backend-names';
export { BackendUnavailableError } from './backend-unavailable-error';
export { batchNormInference } from './batch-norm-inference';
export { type BatchNormTrainingResult, batchNormTraining } from './batch-norm-training';
export {
  assertNoLeaks,
  type LeakReport,
  measureLeaks,
  TensorScope,
  withTensorScope,
} from './memory';
export {
  importFs,
  importOptional,
  importPath,
  isMissingPackage,
  readExactly,
  syncDirectory,
  writeAll,
  writeFileAtomic,
} from './node-io';
export {
  type AnyLayout,
  computeFans,
  type Fans,
  type FlattenedFrom,
  fromPyTorchLayout,
  fromPyTorchPermutation,
  fromPyTorchShape,
  isPyTorchLayout,
  type LayoutOptions,
  type LayoutPermutation,
  PARAM_LAYOUTS,
  type ParamLayout,
  PYTORCH_COUNTERPART,
  PYTORCH_LAYOUTS,
  type PyTorchLayout,
  toPyTorchLayout,
  toPyTorchPermutation,
  toPyTorchShape,
} from './parameter-layout';
export { globalRandom, manualSeed, RandomSource, type RandomState } from './random';
export {
  type BackendReport,
  formatBackendReport,
  type SelectBackendOptions,
  selectBackend,
  type WasmFeatures,
} from './select-backend';
export {
  checkStateKeys,
  StateDictError,
  type Stateful,
  stateProblem,
} from './stateful';
export { registerWasmTrainingKernels } from './wasm-training-kernels';
