import { describe, expect, it } from 'vitest';
import { RandomSampler } from './random-sampler';
import { defineSpace, float } from './search-space';
import { runStudy } from './study';
import { retrainAndTest, validationPlan } from './validation-plan';

// 300 samples in 3 classes of unequal size (150 / 100 / 50).
const labels = Int32Array.from({ length: 300 }, (_, i) => (i < 150 ? 0 : i < 250 ? 1 : 2));
const countBy = (idx: Int32Array) =>
  [0, 1, 2].map((c) => idx.filter((i) => labels[i] === c).length);

describe('validationPlan', () => {
  it('holdout: disjoint parts covering everything, class proportions kept, same for a seed', () => {
    const plan = validationPlan(labels, { testFraction: 0.2, validationFraction: 0.25, seed: 4 });
    expect(plan.testSize).toBe(60);
    expect(plan.search.length).toBe(240);
    const [fold] = plan.folds;
    expect(plan.folds.length).toBe(1);
    expect(fold.train.length + fold.validation.length).toBe(240);
    expect(countBy(fold.validation)).toEqual([30, 20, 10]);
    const test = plan.takeTest();
    expect(countBy(test)).toEqual([30, 20, 10]);
    const seen = new Set([...fold.train, ...fold.validation, ...test]);
    expect(seen.size).toBe(300);
    const again = validationPlan(labels, { testFraction: 0.2, validationFraction: 0.25, seed: 4 });
    expect(again.folds[0].validation).toEqual(fold.validation);
    expect(again.takeTest()).toEqual(test);
    const other = validationPlan(labels, { testFraction: 0.2, validationFraction: 0.25, seed: 5 });
    expect(other.takeTest()).not.toEqual(test);
  });

  it('stratified k-fold: each search index validates exactly once', () => {
    const plan = validationPlan(labels, { testFraction: 0.1, folds: 3, seed: 1 });
    const counts = new Map<number, number>();
    for (const f of plan.folds) {
      expect(f.train.length + f.validation.length).toBe(plan.search.length);
      expect(countBy(f.validation)).toEqual([45, 30, 15]);
      for (const i of f.validation) counts.set(i, (counts.get(i) ?? 0) + 1);
      for (const i of f.train) expect(f.validation.includes(i)).toBe(false);
    }
    expect(counts.size).toBe(plan.search.length);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const plain = validationPlan(labels, {
      testFraction: 0.1,
      folds: 3,
      seed: 1,
      stratified: false,
    });
    expect(plain.folds.map((f) => f.validation.length)).toEqual([90, 90, 90]);
  });

  it('rejects bad options by name', () => {
    expect(() => validationPlan(labels, { testFraction: 0, folds: 2, seed: 0 })).toThrow(
      /testFraction must be in \(0, 1\), received 0/,
    );
    expect(() => validationPlan(labels, { testFraction: 0.2, seed: 0 })).toThrow(/exactly one of/);
    expect(() => validationPlan(labels, { testFraction: 0.2, folds: 1, seed: 0 })).toThrow(
      /folds must be an integer >= 2, received 1/,
    );
  });

  it('the search never touches the test set; the best is retrained and tested once', async () => {
    // Data: x_i on a line, y_i = 2 x_i + class offset; a "model" is a ridge-like fit whose
    // quality depends on the regularization the search tunes.
    const xs = Float64Array.from(labels, (c, i) => (i % 37) / 37 + c);
    const ys = Float64Array.from(xs, (x) => 2 * x + 0.5);
    const touched = new Set<number>();
    const read = (i: number) => {
      touched.add(i);
      return [xs[i], ys[i]] as const;
    };
    const fitSlope = (idx: Int32Array, shrink: number) => {
      let sxy = 0;
      let sxx = 0;
      for (const i of idx) {
        const [x, y] = read(i);
        sxy += x * (y - 0.5);
        sxx += x * x;
      }
      return sxy / (sxx + shrink * idx.length);
    };
    const mse = (slope: number, idx: Int32Array) => {
      let e = 0;
      for (const i of idx) {
        const [x, y] = read(i);
        e += (slope * x + 0.5 - y) ** 2;
      }
      return e / idx.length;
    };
    const plan = validationPlan(labels, { testFraction: 0.2, folds: 3, seed: 9 });
    const study = await runStudy({
      space: defineSpace({ shrink: float(1e-4, 10, { log: true }) }),
      trials: 12,
      sampler: new RandomSampler(),
      objective: ({ params }) =>
        plan.folds.reduce((a, f) => a + mse(fitSlope(f.train, params.shrink), f.validation), 0) /
        plan.folds.length,
    });
    const searchSet = new Set(plan.search);
    expect([...touched].every((i) => searchSet.has(i))).toBe(true);
    expect(plan.testUsed).toBe(false);
    touched.clear();
    const final = await retrainAndTest({
      plan,
      study,
      train: (params, idx) => fitSlope(idx, params.shrink as number),
      evaluate: (slope, idx) => mse(slope, idx),
    });
    expect(final.params).toEqual(study.best!.params);
    expect(touched.size).toBe(300); // retrained on the 240 search samples, tested on the 60
    expect(final.test).toBeLessThan(0.01);
    await expect(
      retrainAndTest({ plan, study, train: () => 0, evaluate: () => 0 }),
    ).rejects.toThrow(/the test set was already used once/);
  });
});
