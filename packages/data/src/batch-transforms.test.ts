import { RandomSource } from '@convkit/backend';
import { describe, expect, it } from 'vitest';
import { cutmix, type HostBatch, mixup, randomChoice } from './index';

/** A batch of n 4x4x1 images, image i filled with value i + 1, labels i % k. */
function batch(n: number, k: number): HostBatch {
  const x = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) x.fill(i + 1, i * 16, (i + 1) * 16);
  return {
    x,
    shape: [n, 4, 4, 1],
    labels: Int32Array.from({ length: n }, (_, i) => i % k),
    numClasses: k,
    indices: Int32Array.from({ length: n }, (_, i) => i),
  };
}

describe('batch transforms', () => {
  it('mixup mixes each sample with the previous one by one lambda, labels alike', () => {
    const input = batch(4, 4);
    const out = mixup({ alpha: 0.5 })(input, new RandomSource(3));
    // Image 1 = lambda * 2 + (1 - lambda) * 1  =>  lambda = value - 1
    const lambda = out.x[16] - 1;
    expect(lambda).toBeGreaterThan(0);
    expect(lambda).toBeLessThan(1);
    expect(out.x[0]).toBeCloseTo(lambda * 1 + (1 - lambda) * 4, 5);
    expect(Array.from(out.soft!.subarray(4, 8)).map((v) => +v.toFixed(5))).toEqual(
      [1 - lambda, lambda, 0, 0].map((v) => +v.toFixed(5)),
    );
    expect(input.x[16]).toBe(2); // input untouched
    expect(mixup()(batch(4, 4), new RandomSource(3)).x).toEqual(
      mixup()(batch(4, 4), new RandomSource(3)).x,
    );
  });

  it('cutmix pastes one box from the previous sample; label weight = kept area', () => {
    for (let seed = 0; seed < 5; seed++) {
      const out = cutmix({ alpha: 1 })(batch(3, 3), new RandomSource(seed));
      const pasted = out.x.subarray(16, 32).filter((v) => v === 1).length;
      expect(out.x.subarray(16, 32).every((v) => v === 1 || v === 2)).toBe(true);
      expect(out.soft![3 + 1]).toBeCloseTo(1 - pasted / 16, 6);
      expect(out.soft![3 + 0]).toBeCloseTo(pasted / 16, 6);
    }
    expect(() => cutmix()({ ...batch(2, 2), numClasses: undefined })).toThrow(
      /soft labels need numClasses/,
    );
  });

  it('randomChoice picks between transforms with the given stream', () => {
    const pick = randomChoice([mixup(), cutmix()]);
    const r = new RandomSource(1);
    const outs = Array.from({ length: 20 }, () => pick(batch(2, 2), r));
    expect(outs.every((o) => o.soft)).toBe(true);
  });
});
