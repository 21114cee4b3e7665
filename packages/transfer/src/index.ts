// The package's only barrel.
export {
  cacheFeatures,
  type FeatureCache,
  loadFeatureCache,
  saveFeatureCache,
  type TrainHeadOptions,
  trainHeadOnCache,
} from './feature-cache';
export {
  createFeatureExtractor,
  FeatureExtractor,
  type FeaturesOnlyOptions,
  featuresOnly,
} from './feature-extractor';
export { type FineTuneOptions, type FineTuneResult, fineTune } from './fine-tune';
export {
  type FreezeOptions,
  freeze,
  type ParameterCounts,
  parameterCounts,
  unfreeze,
} from './freeze';
export {
  chooseHead,
  createHead,
  encoderWidth,
  type HeadOptions,
  type HeadRecommendation,
  resetClassifier,
} from './head';
export { adaptInputChannels, adaptKernel } from './input-adaptation';
