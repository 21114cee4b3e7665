// The package's only barrel. Browser-safe: the Node-only functions (readSafetensorsFile,
// saveSafetensorsFile, inspectSafetensorsFile, saveModelDirectory, loadModelDirectory) import
// node:fs / node:path dynamically inside their bodies, so importing this barrel in a browser
// bundle never loads Node modules; calling those functions there fails.
// The layout vocabulary and its PyTorch conversions are @convkit/backend's, re-exported here
// beside the state-dict converters that use them.
export {
  type FlattenedFrom,
  fromPyTorchLayout,
  type LayoutOptions,
  PARAM_LAYOUTS,
  type ParamLayout,
  toPyTorchLayout,
} from '@convkit/backend';
export {
  type ConvertStateDictOptions,
  type ConvertStateDictResult,
  convertStateDict,
  exportStateDict,
  type LayoutMap,
  type LayoutSpec,
  type ShapeProblem,
} from './convert';
export { KERAS_SUFFIXES, type KerasNameOptions, kerasNameToKey, mapKerasNames } from './keras';
export {
  DEFAULT_SHARD_BYTES,
  decodeModelJsonWeights,
  type EncodeModelJsonOptions,
  encodeModelJson,
  type LoadModelJsonOptions,
  loadModelJsonFromUrl,
  type ManifestDtype,
  type ModelJson,
  validateModelJson,
  type WeightsManifestEntry,
  type WeightsManifestGroup,
} from './model-json';
export { loadModelDirectory, saveModelDirectory } from './node/model-directory';
export {
  inspectSafetensorsFile,
  readSafetensorsFile,
  saveSafetensorsFile,
} from './node/safetensors-file';
export {
  type DownloadWeightsOptions,
  downloadWeights,
  type FetchWeightsOptions,
  fetchWeights,
  type PretrainedWeights,
  TORCHVISION_WEIGHTS,
  torchvisionWeights,
  type WeightsSource,
} from './pretrained';
export {
  type InspectPthOptions,
  inspectPth,
  PTH_ALLOWED_GLOBALS,
  type PthArchive,
  type PthContent,
  type ReadPthOptions,
  readPth,
  readPthFile,
  readPthFromResponse,
} from './pth';
export { type PthDtype, type PthKey, PthTensor, type PthValue } from './pth-value';
export {
  inspectSafetensors,
  isNumBatchesTracked,
  type ReadSafetensorsOptions,
  readSafetensors,
  readSafetensorsFromResponse,
  safetensorsDtypeFor,
  type WriteSafetensorsOptions,
  writeSafetensors,
} from './safetensors';
export {
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPES,
  type SafetensorsContent,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type Selection,
} from './safetensors-format';
