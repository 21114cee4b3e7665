export { type GradCamOptions, type GradCamResult, gradCam, gradCamPlusPlus } from './grad-cam';
export {
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  integratedGradients,
} from './integrated-gradients';
export type { Target } from './internal/checks';
export { type OcclusionOptions, occlusion } from './occlusion';
export {
  type GradientAttribution,
  type SaliencyOptions,
  type SmoothGradOptions,
  saliency,
  smoothGrad,
} from './saliency';
