// The layout vocabulary and torch's fans are @convkit/backend's, re-exported for initializer users.
export { type AnyLayout, computeFans, type Fans } from '@convkit/backend';
export { calculateGain, type Nonlinearity } from './calculate-gain';
export { constant, ones, zeros } from './constant';
export { type DiracOptions, dirac } from './dirac';
export { eye } from './eye';
export type { Distribution, Initializer, SampleOptions } from './initializer';
export { type KaimingOptions, kaimingNormal, kaimingUniform } from './kaiming';
export { type NormalOptions, normal } from './normal';
export { type OrthogonalOptions, orthogonal } from './orthogonal';
export { type InitPreset, initPresets } from './presets';
export {
  TRUNCATED_NORMAL_STD_AT_2,
  type TruncatedNormalOptions,
  truncatedNormal,
} from './truncated-normal';
export { type UniformOptions, uniform } from './uniform';
export {
  glorotNormal,
  glorotUniform,
  heNormal,
  heUniform,
  lecunNormal,
  lecunUniform,
  type VarianceScalingOptions,
  varianceScaling,
} from './variance-scaling';
export { type XavierOptions, xavierNormal, xavierUniform } from './xavier';
