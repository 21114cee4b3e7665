import type { RandomSource } from '@convkit/backend';
import { resolveSeed, streamFor } from './internal/seed';
import { stratifiedSplit } from './stratified-split';

export interface KFoldOptions {
  /** Number of folds, 2 <= k <= number of samples (default 5, as scikit-learn). */
  folds?: number;
  /**
   * Shuffle before cutting the folds (default true; the order comes from `seed`). With `false`,
   * plain `kFold` cuts contiguous runs of indices, as scikit-learn's `KFold(shuffle=False)`.
   * `stratifiedKFold` always draws its within-class order from the seed.
   */
  shuffle?: boolean;
  seed?: number;
  /** Where the seed is drawn from when `seed` is not given (default: the global source). */
  random?: RandomSource;
}

/** One fold: the held-out `validation` indices and the `train` indices (the rest), sorted. */
export interface Fold {
  train: Int32Array;
  validation: Int32Array;
}

function foldCount(options: KFoldOptions, n: number, fn: string): number {
  const k = options.folds ?? 5;
  if (!Number.isInteger(k) || k < 2) {
    throw new Error(`${fn}: folds must be an integer >= 2, received ${k}`);
  }
  if (k > n) throw new Error(`${fn}: ${k} folds need at least ${k} samples, received ${n}`);
  return k;
}

/** Fold sizes as scikit-learn: the first `n % k` folds hold one sample more. */
function foldSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, j) => Math.floor(n / k) + (j < n % k ? 1 : 0));
}

function toFolds(parts: Int32Array[], n: number): Fold[] {
  return parts.map((validation) => {
    const held = new Uint8Array(n);
    for (const i of validation) held[i] = 1;
    const train = new Int32Array(n - validation.length);
    let t = 0;
    for (let i = 0; i < n; i++) if (!held[i]) train[t++] = i;
    return { train, validation: Int32Array.from(validation).sort() };
  });
}

/**
 * K-fold cross-validation over `n` samples: k disjoint validation folds covering every index
 * once (sizes differ by at most one, the larger first), each with the remaining indices as
 * its training set. Seeded: the same seed gives the same folds.
 */
export function kFold(n: number, options: KFoldOptions = {}): Fold[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`kFold: expected a sample count (integer >= 0), received ${n}`);
  }
  const k = foldCount(options, n, 'kFold');
  const shuffle = options.shuffle ?? true;
  const order = shuffle
    ? streamFor(resolveSeed(options.seed, options.random), 0x6b666f6c).permutation(n)
    : Int32Array.from({ length: n }, (_, i) => i);
  const parts: Int32Array[] = [];
  let start = 0;
  for (const size of foldSizes(n, k)) {
    parts.push(order.slice(start, start + size));
    start += size;
  }
  return toFolds(parts, n);
}

/**
 * Stratified k-fold: as `kFold`, but every fold keeps each class's proportion (per class, the
 * fold counts are within one of the ideal share; fold sizes are exact). The folds are the
 * parts of `stratifiedSplit` with the k fold sizes, so both share one allocation rule.
 * A class with fewer than k members cannot appear in every fold (as scikit-learn, which warns).
 */
export function stratifiedKFold(labels: ArrayLike<number>, options: KFoldOptions = {}): Fold[] {
  const n = labels.length;
  const k = foldCount(options, n, 'stratifiedKFold');
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i])) {
      throw new Error(`stratifiedKFold: label ${labels[i]} at index ${i} is not an integer`);
    }
  }
  const seed = resolveSeed(options.seed, options.random);
  return toFolds(stratifiedSplit(labels, { sizes: foldSizes(n, k), seed }), n);
}
