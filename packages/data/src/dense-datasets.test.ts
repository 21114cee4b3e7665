// Multi-label and segmentation datasets, joint transforms, and the loader's dense targets.
import { measureLeaks, RandomSource } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  affine,
  colorJitter,
  DataLoader,
  imageOnly,
  jointCompose,
  jointRandomAffine,
  jointRandomCrop,
  jointRandomHorizontalFlip,
  jointRandomResizedCrop,
  jointRandomVerticalFlip,
  jointResize,
  multiLabelShapesDataset,
  randomAffineParams,
  randomHorizontalFlip,
  type SegmentationSample,
  segmentationShapesDataset,
} from './index';

beforeAll(() => useBackend('cpu'));

describe('multiLabelShapesDataset', () => {
  it('seeded multi-hot targets, 1 to 3 distinct shapes, each class present about half as often as 2/6', () => {
    const d = multiLabelShapesDataset({ length: 300, seed: 1, size: 24 });
    expect(d.numClasses).toBe(6);
    expect(d.targets.length).toBe(300 * 6);
    const perClass = new Array(6).fill(0);
    const perImage = new Array(4).fill(0);
    for (let i = 0; i < 300; i++) {
      const row = d.targets.subarray(i * 6, i * 6 + 6);
      expect(row.every((v) => v === 0 || v === 1)).toBe(true);
      const k = row.reduce((a, b) => a + b, 0);
      perImage[k]++;
      row.forEach((v, c) => {
        perClass[c] += v;
      });
    }
    expect(perImage[0]).toBe(0);
    for (const k of [1, 2, 3]) expect(perImage[k]).toBeGreaterThan(70);
    // E[k] / 6 = 1/3 of 300 = 100 per class.
    for (const c of perClass) expect(Math.abs(c - 100)).toBeLessThan(30);
    const s = d.get(7);
    expect(Array.from(s.target)).toEqual(Array.from(d.targets.subarray(42, 48)));
    expect(s.image.data).toEqual(
      multiLabelShapesDataset({ length: 300, seed: 1, size: 24 }).get(7).image.data,
    );
    expect(s.image.data).not.toEqual(
      multiLabelShapesDataset({ length: 300, seed: 2, size: 24 }).get(7).image.data,
    );
  });

  it('draws the shapes it names: more shapes, more bright pixels', () => {
    const d = multiLabelShapesDataset({ length: 200, seed: 3, size: 24, noise: 0 });
    const bright = [0, 0, 0, 0];
    const count = [0, 0, 0, 0];
    for (let i = 0; i < 200; i++) {
      const { image, target } = d.get(i);
      const k = target.reduce((a, b) => a + b, 0);
      bright[k] += image.data.filter((v) => v > 0.5).length;
      count[k]++;
    }
    const mean = bright.map((b, k) => b / Math.max(count[k], 1));
    expect(mean[2]).toBeGreaterThan(mean[1] * 1.5);
    expect(mean[3]).toBeGreaterThan(mean[2] * 1.2);
  });

  it('refuses bad options with the value', () => {
    expect(() => multiLabelShapesDataset({ shapesPerImage: [1, 7] })).toThrow(
      /shapesPerImage must be integers 0 <= min <= max <= 6 .* received \[1,7\]/,
    );
    expect(() => multiLabelShapesDataset({ shapes: ['circle', 'blob' as never] })).toThrow(
      /unknown shape "blob"/,
    );
  });
});

describe('segmentationShapesDataset', () => {
  it('masks label the shapes the image shows', () => {
    const d = segmentationShapesDataset({ length: 40, seed: 2, size: 24, noise: 0 });
    expect(d.numClasses).toBe(7);
    expect(d.classNames[0]).toBe('background');
    let fgBright = 0;
    let fg = 0;
    let bgDark = 0;
    let bg = 0;
    for (let i = 0; i < 40; i++) {
      const { image, mask } = d.get(i);
      expect([mask.height, mask.width]).toEqual([24, 24]);
      for (let p = 0; p < 24 * 24; p++) {
        expect(mask.data[p]).toBeLessThan(7);
        if (mask.data[p] > 0) {
          fg++;
          if (image.data[p] >= 0.45) fgBright++;
        } else {
          bg++;
          if (image.data[p] < 0.5) bgDark++;
        }
      }
    }
    expect(fg).toBeGreaterThan(40 * 24);
    expect(fgBright / fg).toBeGreaterThan(0.97);
    expect(bgDark / bg).toBeGreaterThan(0.97);
  });
});

function pair(seed: number): SegmentationSample {
  return segmentationShapesDataset({ length: 1, seed, size: 20, channels: 3, noise: 0 }).get(0);
}

/** The fraction of mask pixels whose image pixel is bright (shape) iff the mask says shape. */
function agreement(s: { image: { data: Float32Array }; mask: { data: ArrayLike<number> } }, c = 3) {
  let ok = 0;
  const n = s.mask.data.length;
  for (let p = 0; p < n; p++) {
    const v = Math.max(s.image.data[p * c], s.image.data[p * c + 1], s.image.data[p * c + 2]);
    if (s.mask.data[p] > 0 === v >= 0.5) ok++;
  }
  return ok / n;
}

describe('joint transforms move image and mask together', () => {
  it('flips, resized crops, affine maps, crops and resizes keep image and mask aligned', () => {
    const t = jointCompose([
      jointRandomHorizontalFlip(),
      jointRandomVerticalFlip(),
      jointRandomResizedCrop({ size: 16, scale: [0.4, 1] }),
      jointRandomAffine({ degrees: 30, translate: [0.1, 0.1], scale: [0.9, 1.1], shear: 10 }),
      jointRandomCrop({ size: 14, padding: 2 }),
      jointResize(28),
      imageOnly(colorJitter({ brightness: 0.1 })),
    ]);
    const r = new RandomSource(5);
    let aligned = 0;
    let control = 0;
    for (let i = 0; i < 20; i++) {
      const src = pair(i);
      const out = t(src, r);
      // Control: the image moved without its mask (a horizontal flip of the image only).
      const flipped = jointRandomHorizontalFlip({ p: 1 })(out);
      control += agreement({ image: flipped.image, mask: out.mask }) / 20;
      expect([out.image.height, out.image.width, out.mask.height, out.mask.width]).toEqual([
        28, 28, 28, 28,
      ]);
      expect(out.mask.data).toBeInstanceOf(Uint8Array);
      // Masks stay class ids (nearest): no new values appear.
      const ids = new Set(src.mask.data);
      ids.add(0);
      for (const v of out.mask.data) expect(ids.has(v)).toBe(true);
      // Bilinear resampling softens edges, so a few border pixels disagree.
      expect(agreement(out)).toBeGreaterThan(0.85);
      aligned += agreement(out) / 20;
    }
    expect(aligned).toBeGreaterThan(0.93);
    expect(control).toBeLessThan(aligned - 0.08);
  });

  it('the affine map of the mask is the nearest affine map of its ids with the same parameters', () => {
    const src = pair(3);
    const opts = {
      degrees: 40,
      translate: [0.2, 0.1] as const,
      interpolation: 'bilinear' as const,
    };
    const out = jointRandomAffine({ ...opts, maskFill: 255 })(src, new RandomSource(9));
    const p = randomAffineParams(opts, 20, 20, new RandomSource(9));
    const ids = { data: Float32Array.from(src.mask.data), height: 20, width: 20, channels: 1 };
    expect(Array.from(out.mask.data)).toEqual(Array.from(affine(ids, p, { fill: 255 }).data));
    expect(out.image.data).toEqual(
      affine(src.image, p, { interpolation: 'bilinear', fill: 0 }).data,
    );
    expect(out.mask.data.includes(255)).toBe(true);
  });

  it('refuses mismatched pairs and geometric image-only transforms', () => {
    const src = pair(1);
    const bad = { image: src.image, mask: { ...src.mask, width: 19 } };
    expect(() => jointRandomHorizontalFlip()(bad)).toThrow(/image is 20x20 but its mask is 20x19/);
    expect(() =>
      imageOnly(() => ({ ...src.image, data: new Float32Array(9), height: 3, width: 1 }) as never)(
        src,
      ),
    ).toThrow(/changed the image size to 3x1/);
  });
});

describe('DataLoader with dense targets', () => {
  it('multi-label: y is [N, C] float32 multi-hot', async () => {
    const d = multiLabelShapesDataset({ length: 10, seed: 4, size: 16 });
    const loader = new DataLoader(d, { batchSize: 4, transform: randomHorizontalFlip(), seed: 1 });
    const report = await measureLeaks(async () => {
      for await (const { x, y } of loader) {
        expect(x.shape.slice(1)).toEqual([16, 16, 1]);
        expect(y.shape[1]).toBe(6);
        expect(y.dtype).toBe('float32');
        tf.dispose([x, y]);
      }
    });
    expect(report.leakedTensors).toBe(0);
    const host = await loader.hostBatch(0, 1);
    expect(Array.from(host.target!.data)).toEqual(Array.from(d.targets.subarray(24, 48)));
  });

  it('segmentation: y is [N, H, W] int32 masks, transformed jointly', async () => {
    const d = segmentationShapesDataset({ length: 6, seed: 5, size: 20, channels: 3, noise: 0 });
    const loader = new DataLoader(d, {
      batchSize: 3,
      jointTransform: jointRandomResizedCrop({ size: 12, scale: [0.5, 1] }),
      seed: 2,
    });
    const host = await loader.hostBatch(0, 0);
    expect(host.target!.shape).toEqual([3, 12, 12]);
    for (let k = 0; k < 3; k++) {
      const image = { data: host.x.subarray(k * 432, (k + 1) * 432) };
      const mask = { data: host.target!.data.subarray(k * 144, (k + 1) * 144) };
      expect(agreement({ image: { data: Float32Array.from(image.data) }, mask })).toBeGreaterThan(
        0.9,
      );
    }
    const { x, y } = loader.toTensors(host);
    expect([y.dtype, ...y.shape]).toEqual(['int32', 3, 12, 12]);
    tf.dispose([x, y]);
    const wrong = new DataLoader(d, { batchSize: 2, transform: randomHorizontalFlip() });
    await expect(wrong.hostBatch(0, 0)).rejects.toThrow(
      /segmentation samples need `jointTransform`/,
    );
  });
});
