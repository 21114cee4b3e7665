import { manualSeed } from '@convkit/backend';
import { describe, expect, it } from 'vitest';
import { SHAPE_NAMES, syntheticShapesDataset } from './index';

describe('synthetic shapes', () => {
  it('is seeded, random-access and balanced', () => {
    const a = syntheticShapesDataset({ length: 60, seed: 3 });
    const b = syntheticShapesDataset({ length: 60, seed: 3 });
    expect(a.get(17).image.data).toEqual(b.get(17).image.data);
    expect(a.get(17).image.data).not.toEqual(
      syntheticShapesDataset({ length: 60, seed: 4 }).get(17).image.data,
    );
    // get(i) does not depend on what was read before.
    const fresh = syntheticShapesDataset({ length: 60, seed: 3 });
    fresh.get(5);
    expect(fresh.get(17).image.data).toEqual(a.get(17).image.data);
    expect(a.classNames).toEqual(SHAPE_NAMES);
    const counts = new Array(SHAPE_NAMES.length).fill(0);
    for (const l of a.labels) counts[l]++;
    expect(counts).toEqual(new Array(6).fill(10));
    manualSeed(11);
    const c = syntheticShapesDataset({ length: 4 });
    manualSeed(11);
    expect(syntheticShapesDataset({ length: 4 }).get(2).image.data).toEqual(c.get(2).image.data);
  });

  it('draws the shape: foreground area grows with the scale, differs by class, values in [0, 1]', () => {
    // Pixels that differ clearly from the background (a corner pixel).
    const areaOf = (data: ArrayLike<number>) => {
      let n = 0;
      for (let i = 0; i < data.length; i++) if (Math.abs(data[i] - data[0]) > 0.25) n++;
      return n;
    };
    const base = { length: 6, size: 32, noise: 0, positionJitter: 0, rotation: 0, seed: 1 };
    const small = syntheticShapesDataset({ ...base, scale: [0.15, 0.15] });
    const large = syntheticShapesDataset({ ...base, scale: [0.4, 0.4] });
    for (let i = 0; i < 6; i++) {
      const s = small.get(i).image.data;
      const l = large.get(i).image.data;
      expect(areaOf(l)).toBeGreaterThan(areaOf(s) * 3);
      for (const v of l) expect(v >= 0 && v <= 1).toBe(true);
    }
    // A circle covers ~pi r^2; a cross clearly less.
    const shapes = syntheticShapesDataset({
      ...base,
      scale: [0.4, 0.4],
      shapes: ['circle', 'cross'],
      length: 2,
    });
    const circle = shapes.get(0).image.data;
    const cross = shapes.get(1).image.data;
    const a0 = areaOf(circle);
    const a1 = areaOf(cross);
    expect(Math.abs(a0 - Math.PI * 12.8 ** 2)).toBeLessThan(40);
    expect(a1).toBeLessThan(a0 * 0.7);
    const rgb = syntheticShapesDataset({ length: 2, channels: 3, size: 16, seed: 2 }).get(0).image;
    expect([rgb.height, rgb.width, rgb.channels, rgb.data.length]).toEqual([16, 16, 3, 768]);
    expect(() => syntheticShapesDataset({ shapes: ['hexagon' as never] })).toThrow(
      /unknown shape "hexagon"/,
    );
  });
});
