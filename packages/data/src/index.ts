export {
  type AffineOptions,
  type AffineParams,
  affine,
  inverseAffineMatrix,
  type RandomAffineOptions,
  randomAffine,
  randomAffineParams,
} from './affine';
export {
  AUGMENT_OPS,
  type AugmentApplyOptions,
  type AugmentOp,
  type AugmentOpName,
  type AugmentOpSpec,
  applyAugmentOp,
  augmentationSpace,
  type RandAugmentOptions,
  randAugment,
  sampleRandAugment,
  sampleTrivialAugment,
  type TrivialAugmentOptions,
  trivialAugmentWide,
} from './auto-augment';
export {
  type BatchTransform,
  cutmix,
  type HostBatch,
  type MixOptions,
  mixup,
  randomChoice,
  softLabels,
} from './batch-transforms';
export { decodeImageBlob, fileListDataset, imageUrlDataset, type UrlImage } from './browser-images';
export { type ChannelStats, channelStats } from './channel-stats';
export { CIFAR10_CLASSES, type CifarOptions, loadCifarBinary, parseCifarBinary } from './cifar';
export {
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  adjustSharpness,
  autocontrast,
  equalize,
  grayscale,
  invert,
  posterize,
  randomGrayscale,
  rgbToGrayscale,
  solarize,
} from './color';
export {
  type Batch,
  DataLoader,
  type DataLoaderOptions,
  type DataLoaderState,
  type LoaderSample,
} from './data-loader';
export {
  type Dataset,
  datasetLabels,
  type FloatImage,
  type Image,
  type LabeledImage,
  mapDataset,
  subset,
} from './dataset';
export {
  type DownloadFashionMnistOptions,
  downloadFashionMnist,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SHA256,
  FASHION_MNIST_SYSTEM_DIR,
  FASHION_MNIST_URL,
  fashionMnistCacheDir,
  type LoadFashionMnistOptions,
  loadFashionMnist,
} from './fashion-mnist';
export { gaussianBlur, randomGaussianBlur } from './gaussian-blur';
export {
  encodeIdx,
  gunzipBytes,
  type IdxArray,
  idxDataset,
  loadIdxDataset,
  parseIdx,
  readIdxFile,
} from './idx';
export {
  decodeImage,
  IMAGE_EXTENSIONS,
  ImageFolderDataset,
  type ImageFolderOptions,
  type ImageFolderSample,
  type ImageLimits,
  imageFolderDataset,
  MAX_IMAGE_PIXELS,
  MAX_IMAGE_SIDE,
} from './image-folder';
export { InMemoryDataset, type InMemoryDatasetOptions } from './in-memory-dataset';
export type { Interpolation } from './interpolation';
export {
  imageOnly,
  type JointTransform,
  jointCompose,
  jointRandomAffine,
  jointRandomCrop,
  jointRandomHorizontalFlip,
  jointRandomResizedCrop,
  jointRandomVerticalFlip,
  jointResize,
  type Mask,
  type SegmentationSample,
} from './joint-transforms';
export { type Fold, type KFoldOptions, kFold, stratifiedKFold } from './k-fold';
export {
  type MultiLabelSample,
  MultiLabelShapesDataset,
  type MultiLabelShapesOptions,
  multiLabelShapesDataset,
} from './multi-label-shapes';
export {
  type CropBox,
  type RandomResizedCropOptions,
  randomResizedCrop,
  randomResizedCropParams,
  resizedCrop,
} from './resized-crop';
export {
  SegmentationShapesDataset,
  type SegmentationShapesOptions,
  segmentationShapesDataset,
} from './segmentation-shapes';
export { type StratifiedSplitOptions, stratifiedSplit } from './stratified-split';
export {
  SHAPE_NAMES,
  type ShapeName,
  SyntheticShapesDataset,
  type SyntheticShapesOptions,
  syntheticShapesDataset,
} from './synthetic-shapes';
export {
  centerCrop,
  colorJitter,
  compose,
  horizontalFlip,
  type ImageTransform,
  normalize,
  type PaddingMode,
  type RandomCropOptions,
  type RandomErasingOptions,
  randomApply,
  randomCrop,
  randomErasing,
  randomHorizontalFlip,
  randomRotation,
  randomVerticalFlip,
  resize,
  rotate,
  toFloat,
} from './transforms';
