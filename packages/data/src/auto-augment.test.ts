// RandAugment / TrivialAugmentWide: op tables and each op against torchvision 0.14
// (fixtures/geometry.py), the random choices by their distribution.
import { RandomSource } from '@convkit/backend';
import { assertAllClose } from '@convkit/tooling/testing';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/geometry.json';
import type { FloatImage } from './dataset';
import {
  AUGMENT_OPS,
  type AugmentOpName,
  applyAugmentOp,
  augmentationSpace,
  randAugment,
  sampleRandAugment,
  sampleTrivialAugment,
  trivialAugmentWide,
} from './index';

const asImage = (f: { shape: number[]; data: number[] }): FloatImage => ({
  data: Float32Array.from(f.data),
  height: f.shape[0],
  width: f.shape[1],
  channels: f.shape[2],
});
const image = asImage(fixture.image);
const u8 = asImage(fixture.u8);
const u8AsFloat: FloatImage = { ...u8, data: u8.data.map((v) => v / 255) };

describe('augmentation spaces match torchvision', () => {
  for (const [kind, table, size] of [
    ['randAugment', fixture.randaugment, [11, 13]],
    ['trivialAugmentWide', fixture.trivialaugment, [32, 32]],
  ] as const) {
    it(kind, () => {
      const space = augmentationSpace(kind, 31, size as [number, number]);
      expect(space.map((s) => s.name)).toEqual(Object.keys(table));
      for (const spec of space) {
        const want = table[spec.name];
        expect(spec.signed).toBe(want.signed);
        // Ops without magnitudes hold one 0-d value in torchvision.
        if (spec.magnitudes.length === 0) expect(want.magnitudes).toEqual([0]);
        else assertAllClose(spec.magnitudes, want.magnitudes, { rtol: 1e-6, atol: 1e-5 });
      }
    });
  }
});

describe('each op matches torchvision _apply_op (nearest, no fill)', () => {
  for (const c of fixture.augment_ops) {
    it(`${c.name} ${c.magnitude}`, () => {
      const src = c.source === 'u8' ? u8AsFloat : image;
      // Solarize on float images takes a [0, 1] threshold in torchvision; ours is in 8-bit units.
      const magnitude = c.name === 'Solarize' ? c.magnitude * 255 : c.magnitude;
      const out = applyAugmentOp(src, { name: c.name as AugmentOpName, magnitude });
      assertAllClose(out.data, c.data, { atol: 2e-6, rtol: 1e-5 });
    });
  }

  it('refuses unknown ops', () => {
    expect(() => applyAugmentOp(image, { name: 'Cutout' as never, magnitude: 1 })).toThrow(
      /unknown op 'Cutout'/,
    );
  });
});

describe('random choices', () => {
  it('randAugment: ops uniform over the 14, signs half the time, the magnitude of its bin', () => {
    const r = new RandomSource(3);
    const counts = new Map<string, number>();
    let negative = 0;
    let signed = 0;
    const n = 14000;
    const space = augmentationSpace('randAugment', 31, [11, 13]);
    for (let i = 0; i < n / 2; i++) {
      for (const op of sampleRandAugment({ magnitude: 12 }, 11, 13, r)) {
        counts.set(op.name, (counts.get(op.name) ?? 0) + 1);
        const spec = space.find((s) => s.name === op.name)!;
        if (spec.magnitudes.length > 0) expect(Math.abs(op.magnitude)).toBe(spec.magnitudes[12]);
        if (spec.signed) {
          signed++;
          if (op.magnitude < 0) negative++;
        }
      }
    }
    for (const name of AUGMENT_OPS) {
      // Binomial(14000, 1/14): mean 1000, sd ~30.
      expect(Math.abs(counts.get(name)! - 1000)).toBeLessThan(150);
    }
    expect(Math.abs(negative / signed - 0.5)).toBeLessThan(0.03);
    expect(() => randAugment({ magnitude: 31 })).toThrow(/bin index in \[0, 31\), received 31/);
  });

  it('trivialAugmentWide: magnitude bins uniform', () => {
    const r = new RandomSource(4);
    const bins = new Array(31).fill(0);
    const rotate = augmentationSpace('trivialAugmentWide').find((s) => s.name === 'Rotate')!;
    for (let i = 0; i < 40000; i++) {
      const op = sampleTrivialAugment({}, r);
      if (op.name === 'Rotate') bins[rotate.magnitudes.indexOf(Math.abs(op.magnitude))]++;
    }
    // ~2857 rotations over 31 bins: ~92 per bin, sd ~9.5.
    for (const b of bins) expect(Math.abs(b - 2857 / 31)).toBeLessThan(50);
  });

  it('the transforms apply what the samplers draw, and stay in [0, 1]', () => {
    for (let seed = 0; seed < 20; seed++) {
      const ops = sampleRandAugment({ numOps: 3 }, 9, 11, new RandomSource(seed));
      let want = image;
      for (const op of ops) want = applyAugmentOp(want, op);
      const out = randAugment({ numOps: 3 })(image, new RandomSource(seed));
      expect(out.data).toEqual(want.data);
      expect(out.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      const t = trivialAugmentWide()(image, new RandomSource(seed));
      const op = sampleTrivialAugment({}, new RandomSource(seed));
      expect(t.data).toEqual(applyAugmentOp(image, op).data);
    }
  });
});
