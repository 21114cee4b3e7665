import { describe, expect, it } from 'vitest';
import { datasetLabels, InMemoryDataset, stratifiedSplit, subset } from './index';

function counts(labels: ArrayLike<number>, idx: Int32Array, k: number) {
  const c = new Array(k).fill(0);
  for (const i of idx) c[labels[i]]++;
  return c;
}

describe('stratifiedSplit', () => {
  // Imbalanced classes: 500, 300, 150, 40, 10.
  const sizes = [500, 300, 150, 40, 10];
  const labels = Int32Array.from(sizes.flatMap((n, c) => new Array(n).fill(c)));
  // Interleave so that class members are not contiguous.
  const shuffled = Int32Array.from(
    { length: labels.length },
    (_, i) => labels[(i * 7919) % labels.length],
  );

  it('exact part sizes, class proportions kept, disjoint and complete', () => {
    const [train, val, test] = stratifiedSplit(shuffled, { sizes: [0.7, 0.2, 0.1], seed: 1 });
    expect([train.length, val.length, test.length]).toEqual([700, 200, 100]);
    const all = [...train, ...val, ...test].sort((a, b) => a - b);
    expect(all).toEqual([...Array(1000).keys()]);
    const total = counts(shuffled, Int32Array.from(all), 5);
    for (const [part, f] of [
      [train, 0.7],
      [val, 0.2],
      [test, 0.1],
    ] as const) {
      const c = counts(shuffled, part, 5);
      c.forEach((v, k) => {
        expect(Math.abs(v - total[k] * f)).toBeLessThanOrEqual(1);
      });
    }
    expect(counts(shuffled, test, 5)).toEqual([50, 30, 15, 4, 1]);
  });

  it('odd sizes still sum exactly; counts as integers; seeded', () => {
    const parts = stratifiedSplit(shuffled, { sizes: [0.333, 0.333, 0.334], seed: 2 });
    expect(parts.map((p) => p.length)).toEqual([333, 333, 334]);
    const byCount = stratifiedSplit(shuffled, { sizes: [901, 99], seed: 2 });
    expect(byCount.map((p) => p.length)).toEqual([901, 99]);
    const again = stratifiedSplit(shuffled, { sizes: [901, 99], seed: 2 });
    expect(again).toEqual(byCount);
    expect(stratifiedSplit(shuffled, { sizes: [901, 99], seed: 3 })[1]).not.toEqual(byCount[1]);
    expect(() => stratifiedSplit(shuffled, { sizes: [0.5, 0.4] })).toThrow(
      /fractions summing to 1 or counts summing to 1000/,
    );
  });

  it('works on a dataset via subset / datasetLabels', async () => {
    const ds = new InMemoryDataset({
      images: new Uint8Array(20),
      shape: [20, 1, 1, 1],
      labels: Array.from({ length: 20 }, (_, i) => i % 2),
    });
    const [a, b] = stratifiedSplit(await datasetLabels(ds), { sizes: [0.5, 0.5], seed: 0 });
    const left = subset(ds, a);
    expect(left.length).toBe(10);
    expect(Array.from(await datasetLabels(left)).filter((l) => l === 1).length).toBe(5);
    expect(new Set([...a, ...b]).size).toBe(20);
    expect(() => subset(ds, [20])).toThrow(/index 20 is out of range \[0, 20\)/);
  });
});
