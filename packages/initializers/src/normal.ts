import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise } from './internal/base';

export interface NormalOptions {
  /** Default 0. */
  mean?: number;
  /** Default 1. */
  std?: number;
}

/** N(mean, std^2), not truncated (`torch.nn.init.normal_`, defaults 0 and 1). */
export function normal(options: NormalOptions = {}): Initializer {
  checkOptions('normal', options, ['mean', 'std']);
  const { mean = 0, std = 1 } = options;
  checkFinite('normal', 'mean', mean);
  checkFinite('normal', 'std', std);
  if (std < 0) throw new Error(`normal: expected std >= 0, received ${std}`);
  return elementwise('normal', { mean, std }, () => ({ kind: 'normal', mean, std }));
}
