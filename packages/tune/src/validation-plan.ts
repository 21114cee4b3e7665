import { RandomSource } from '@convkit/backend';
import { stratifiedSplit } from '@convkit/data';
import type { ParamValue } from './search-space';
import type { StudyResult } from './study';

export interface ValidationPlanOptions {
  /** Share of the samples set aside as the test set (0 < f < 1). */
  testFraction: number;
  /** Holdout: share of the remaining samples used for validation. */
  validationFraction?: number;
  /** k-fold cross-validation over the remaining samples (k >= 2), instead of a holdout. */
  folds?: number;
  /** Keep each class's proportion in every part (default true). */
  stratified?: boolean;
  seed: number;
}

/** One way to train and validate a configuration during the search. */
export interface Fold {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * How a dataset is used by a search: a test set set aside first and sealed, and the rest (the
 * search set) split into a holdout validation set or k folds. The same labels and seed give
 * the same plan in every process, so workers rebuild it instead of receiving indices.
 */
export class ValidationPlan {
  /** Indices the search may use (everything but the test set), sorted. */
  readonly search: Int32Array;
  /** One fold for a holdout, k for k-fold; every index is in `search`. */
  readonly folds: readonly Fold[];
  private readonly test: Int32Array;
  private testTaken = false;

  constructor(search: Int32Array, folds: Fold[], test: Int32Array) {
    this.search = search;
    this.folds = folds;
    this.test = test;
  }

  /** Size of the sealed test set (its indices are only given by `takeTest`). */
  get testSize(): number {
    return this.test.length;
  }

  /** Whether the test set has been taken. */
  get testUsed(): boolean {
    return this.testTaken;
  }

  /**
   * The test indices, once: for the single final evaluation of the retrained best
   * configuration. A second call throws (a test set evaluated twice is a validation set).
   */
  takeTest(): Int32Array {
    if (this.testTaken) {
      throw new Error('ValidationPlan.takeTest: the test set was already used once');
    }
    this.testTaken = true;
    return this.test.slice();
  }
}

/** Split sample indices (by their labels) into a sealed test set and validation folds. */
export function validationPlan(
  labels: ArrayLike<number>,
  options: ValidationPlanOptions,
): ValidationPlan {
  const { testFraction, validationFraction, folds, seed } = options;
  const stratified = options.stratified ?? true;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(`validationPlan: testFraction must be in (0, 1), received ${testFraction}`);
  }
  if ((validationFraction === undefined) === (folds === undefined)) {
    throw new Error(
      'validationPlan: give exactly one of validationFraction (holdout) or folds (k-fold)',
    );
  }
  if (validationFraction !== undefined && !(validationFraction > 0 && validationFraction < 1)) {
    throw new Error(
      `validationPlan: validationFraction must be in (0, 1), received ${validationFraction}`,
    );
  }
  if (folds !== undefined && !(Number.isInteger(folds) && folds >= 2)) {
    throw new Error(`validationPlan: folds must be an integer >= 2, received ${folds}`);
  }
  if (!Number.isFinite(seed))
    throw new Error(`validationPlan: seed must be a finite number, received ${seed}`);
  const split = (idx: Int32Array, sizes: number[], streamSeed: number): Int32Array[] => {
    if (stratified) {
      const sub = Int32Array.from(idx, (i) => labels[i]);
      return stratifiedSplit(sub, { sizes, seed: streamSeed }).map((part) =>
        Int32Array.from(part, (j) => idx[j]),
      );
    }
    const perm = new RandomSource(streamSeed).permutation(idx.length);
    const out: Int32Array[] = [];
    let start = 0;
    sizes.forEach((size, k) => {
      const count = k === sizes.length - 1 ? idx.length - start : Math.round(size * idx.length);
      out.push(Int32Array.from(perm.subarray(start, start + count), (j) => idx[j]).sort());
      start += count;
    });
    return out;
  };
  const all = Int32Array.from({ length: labels.length }, (_, i) => i);
  const [search, test] = split(all, [1 - testFraction, testFraction], seed);
  if (search.length === 0 || test.length === 0) {
    throw new Error(
      `validationPlan: ${labels.length} samples leave an empty search or test set at testFraction=${testFraction}`,
    );
  }
  let foldList: Fold[];
  if (validationFraction !== undefined) {
    const [train, validation] = split(
      search,
      [1 - validationFraction, validationFraction],
      seed + 1,
    );
    foldList = [{ train, validation }];
  } else {
    const k = folds!;
    const parts = split(search, new Array(k).fill(1 / k), seed + 1);
    foldList = parts.map((validation, i) => ({
      train: Int32Array.from(parts.filter((_, j) => j !== i).flatMap((p) => [...p])).sort(),
      validation,
    }));
  }
  for (const [i, f] of foldList.entries()) {
    if (f.train.length === 0 || f.validation.length === 0) {
      throw new Error(`validationPlan: fold ${i} has an empty train or validation part`);
    }
  }
  return new ValidationPlan(search, foldList, test);
}

export interface RetrainOptions<M, R> {
  plan: ValidationPlan;
  /** The finished study (its best complete trial is retrained). */
  study: StudyResult;
  /** Train a model with `params` on `indices` (the whole search set). */
  train: (params: Record<string, ParamValue>, indices: Int32Array) => M | Promise<M>;
  /** Evaluate it once on the test indices. */
  evaluate: (model: M, testIndices: Int32Array) => R | Promise<R>;
}

/**
 * The end of a search: retrain the best configuration on the whole search set (train and
 * validation together), then evaluate it once on the sealed test set.
 */
export async function retrainAndTest<M, R>(
  options: RetrainOptions<M, R>,
): Promise<{ params: Record<string, ParamValue>; model: M; test: R }> {
  const best = options.study.best;
  if (!best) {
    throw new Error(`retrainAndTest: study '${options.study.name}' has no complete trial`);
  }
  if (options.plan.testUsed) {
    throw new Error('retrainAndTest: the test set was already used once');
  }
  const model = await options.train(best.params, options.plan.search.slice());
  const test = await options.evaluate(model, options.plan.takeTest());
  return { params: best.params, model, test };
}
