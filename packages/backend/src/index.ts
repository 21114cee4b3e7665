export {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendName,
  CONV_TRAINING_KERNELS,
  currentPlatform,
  type Platform,
} from './backend-names';
export { BackendUnavailableError } from './internal/loaders';
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
export { globalRandom, manualSeed, RandomSource, type RandomState } from './random';
export {
  type BackendReport,
  formatBackendReport,
  type SelectBackendOptions,
  selectBackend,
} from './select-backend';
export {
  checkStateKeys,
  StateDictError,
  type Stateful,
  stateProblem,
} from './stateful';
export { registerWasmTrainingKernels } from './wasm-training-kernels';
