import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise } from './internal/base';

export interface TruncatedNormalOptions {
  /** Mean of the underlying normal. Default 0. */
  mean?: number;
  /** Standard deviation of the underlying normal, BEFORE truncation. Default 1. */
  std?: number;
  /** Lower cutoff, an absolute value (not in units of std). Default -2. */
  low?: number;
  /** Upper cutoff, an absolute value. Default 2. */
  high?: number;
}

/**
 * A normal N(mean, std^2) truncated to [low, high], with PyTorch's `trunc_normal_` semantics:
 * `std` is the standard deviation of the un-truncated normal and the cutoffs are absolute, so
 * the samples' own std is smaller (0.8796 x std for the default cutoffs at +-2 std).
 *
 * For Keras's convention, where a truncated-normal initializer is rescaled so that the samples
 * have the requested std, use `varianceScaling({ distribution: 'truncatedNormal' })` (or
 * glorotNormal / heNormal / lecunNormal).
 */
export function truncatedNormal(options: TruncatedNormalOptions = {}): Initializer {
  const fn = 'truncatedNormal';
  checkOptions(fn, options, ['mean', 'std', 'low', 'high']);
  const { mean = 0, std = 1, low = -2, high = 2 } = options;
  for (const [k, v] of Object.entries({ mean, std, low, high })) checkFinite(fn, k, v);
  if (std < 0) throw new Error(`${fn}: expected std >= 0, received ${std}`);
  if (!(low < high))
    throw new Error(`${fn}: expected low < high, received low=${low}, high=${high}`);
  return elementwise(fn, { mean, std, low, high }, () => ({
    kind: 'truncatedNormal',
    mean,
    std,
    low,
    high,
  }));
}

/** Std of the standard normal truncated to [-2, 2]: the Keras correction factor. */
export const TRUNCATED_NORMAL_STD_AT_2 = 0.87962566103423978;
