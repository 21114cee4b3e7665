import { describe, expect, it } from 'vitest';
import { datasetLabels, InMemoryDataset, mapDataset, subset } from './index';

describe('datasets', () => {
  it('InMemoryDataset: views without copies, [N, H, W] means one channel, validation', () => {
    const images = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i);
    const ds = new InMemoryDataset({
      images,
      shape: [2, 3, 2],
      labels: [1, 0],
      classNames: ['a', 'b'],
    });
    const s = ds.get(1);
    expect(s.label).toBe(0);
    expect(s.image).toMatchObject({ height: 3, width: 2, channels: 1 });
    expect(s.image.data.buffer).toBe(images.buffer);
    expect(Array.from(s.image.data)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(() => ds.get(2)).toThrow(/index 2 is out of range \[0, 2\)/);
    expect(() => new InMemoryDataset({ images, shape: [2, 3, 3], labels: [0, 0] })).toThrow(
      /shape \[2,3,3\] needs 18 values, but images has 12/,
    );
    expect(() => new InMemoryDataset({ images, shape: [2, 3, 2], labels: [0] })).toThrow(
      /2 images but 1 labels/,
    );
  });

  it('subset, mapDataset (sync and async) and datasetLabels', async () => {
    const ds = new InMemoryDataset({
      images: new Uint8Array(5),
      shape: [5, 1, 1, 1],
      labels: [4, 3, 2, 1, 0],
    });
    const sub = subset(ds, [4, 0]);
    expect(await datasetLabels(sub)).toEqual(Int32Array.from([0, 4]));
    const doubled = mapDataset(ds, (s, i) => ({ ...s, label: s.label + i }));
    expect((await doubled.get(1)).label).toBe(4);
    const asyncDs = {
      length: 2,
      get: async (i: number) => ({ image: ds.get(i).image, label: i * 2 }),
    };
    expect(await datasetLabels(asyncDs)).toEqual(Int32Array.from([0, 2]));
    expect(await mapDataset(asyncDs, (s) => s.label + 1).get(1)).toBe(3);
  });
});
