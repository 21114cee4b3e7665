export {
  type MaximizeActivationOptions,
  type MaximizeActivationResult,
  type MaximizeObjective,
  maximizeActivation,
} from './activation-maximization';
export {
  confusionMatrixSpec,
  type EpochLogsLike,
  type HistoryLike,
  historySeries,
  perClassMetrics,
  perClassMetricsSpec,
  renderChartSvg,
  trainingCurvesSpec,
  type VegaLiteSpec,
} from './charts';
export { type ColormapName, colormapTable } from './colormap';
export {
  activationStats,
  type ChannelStats,
  type FeatureMapGridOptions,
  type FilterGridOptions,
  featureMapGrid,
  featureMapImages,
  featureMaps,
  filterGrid,
  filterImages,
} from './features';
export { type GalleryOptions, type GalleryResult, galleryLayers, writeGallery } from './gallery';
export { type GradCamOptions, type GradCamResult, gradCam, gradCamPlusPlus } from './grad-cam';
export {
  base64,
  drawToCanvas,
  encodePng,
  type LabeledGridOptions,
  labeledGridSvg,
  type OverlayOptions,
  overlayHeatmap,
  type RgbaImage,
  type TileOptions,
  type ToImageOptions,
  tensorToImage,
  tileImages,
  toImageData,
  upscale,
  type ValueRange,
  valuesToImage,
} from './image';
export {
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  integratedGradients,
} from './integrated-gradients';
export { type ModelDiagramOptions, modelDiagramSvg } from './model-diagram';
export { type OcclusionOptions, occlusion } from './occlusion';
export { type ReconstructionResult, type ReconstructOptions, reconstruct } from './reconstruction';
export { type SvgToPngOptions, svgToPng, writePng } from './render-node';
export {
  type GradientAttribution,
  type SaliencyOptions,
  type SmoothGradOptions,
  saliency,
  smoothGrad,
} from './saliency';
export {
  optimizationHistorySpec,
  type ParallelCoordinatesOptions,
  type ParameterImportance,
  type ParameterImportanceOptions,
  parallelCoordinatesSpec,
  parameterImportance,
  parameterImportanceSpec,
  runningBest,
  type StudyChartOptions,
  type StudyDirection,
  type TrialLike,
  type TrialParamValue,
} from './study-charts';
export type { Target } from './target';
