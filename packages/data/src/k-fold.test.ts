import { manualSeed } from '@convkit/backend';
import { describe, expect, it } from 'vitest';
import { kFold, stratifiedKFold } from './index';

const sorted = (a: Iterable<number>) => [...a].sort((x, y) => x - y);

describe('kFold', () => {
  it('k disjoint validation folds covering every index, sizes as scikit-learn, seeded', () => {
    const folds = kFold(23, { folds: 5, seed: 4 });
    expect(folds.map((f) => f.validation.length)).toEqual([5, 5, 5, 4, 4]);
    expect(sorted(folds.flatMap((f) => [...f.validation]))).toEqual([...Array(23).keys()]);
    for (const { train, validation } of folds) {
      expect(train.length + validation.length).toBe(23);
      expect(sorted([...train, ...validation])).toEqual([...Array(23).keys()]);
      expect([...train]).toEqual(sorted(train));
    }
    expect(kFold(23, { folds: 5, seed: 4 })).toEqual(folds);
    expect(kFold(23, { folds: 5, seed: 5 })).not.toEqual(folds);
    manualSeed(9);
    const a = kFold(10, { folds: 2 });
    manualSeed(9);
    expect(kFold(10, { folds: 2 })).toEqual(a);
  });

  it('without shuffling cuts contiguous runs', () => {
    const folds = kFold(7, { folds: 3, shuffle: false });
    expect(folds.map((f) => [...f.validation])).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect([...folds[1].train]).toEqual([0, 1, 2, 5, 6]);
  });

  it('refuses bad fold counts with the value', () => {
    expect(() => kFold(10, { folds: 1 })).toThrow(/folds must be an integer >= 2, received 1/);
    expect(() => kFold(3, { folds: 4 })).toThrow(/4 folds need at least 4 samples, received 3/);
    expect(() => kFold(-1)).toThrow(/sample count .* received -1/);
  });
});

describe('stratifiedKFold', () => {
  // Imbalanced: 60, 25, 10, 5 (interleaved).
  const base = [60, 25, 10, 5].flatMap((n, c) => new Array(n).fill(c));
  const labels = Int32Array.from(base, (_, i) => base[(i * 37) % base.length]);

  it('every fold keeps each class within one of its ideal share', () => {
    const folds = stratifiedKFold(labels, { folds: 5, seed: 2 });
    expect(folds.map((f) => f.validation.length)).toEqual([20, 20, 20, 20, 20]);
    expect(sorted(folds.flatMap((f) => [...f.validation]))).toEqual([...Array(100).keys()]);
    for (const { train, validation } of folds) {
      expect(train.length).toBe(80);
      const counts = [0, 0, 0, 0];
      for (const i of validation) counts[labels[i]]++;
      for (const [c, n] of [60, 25, 10, 5].entries()) {
        expect(Math.abs(counts[c] - n / 5)).toBeLessThan(1);
      }
    }
    expect(stratifiedKFold(labels, { folds: 5, seed: 2 })).toEqual(folds);
    expect(stratifiedKFold(labels, { folds: 5, seed: 3 })).not.toEqual(folds);
  });

  it('uneven sizes and bad labels', () => {
    const folds = stratifiedKFold(labels.subarray(0, 98), { folds: 4, seed: 1 });
    expect(folds.map((f) => f.validation.length)).toEqual([25, 25, 24, 24]);
    expect(() => stratifiedKFold([0, 1, 0.5, 1], { folds: 2 })).toThrow(
      /label 0.5 at index 2 is not an integer/,
    );
  });
});
