import { RandomSource } from '@convkit/backend';
import { assertAllClose } from '@convkit/tooling/testing';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/transforms.json';
import type { FloatImage, Image } from './dataset';
import {
  centerCrop,
  colorJitter,
  compose,
  horizontalFlip,
  normalize,
  randomApply,
  randomCrop,
  randomErasing,
  randomHorizontalFlip,
  randomRotation,
  randomVerticalFlip,
  resize,
  rotate,
  toFloat,
} from './index';

function randomImage(h: number, w: number, c: number, seed = 1): FloatImage {
  const r = new RandomSource(seed);
  return { data: r.uniformArray(h * w * c), height: h, width: w, channels: c };
}

const at = (img: Image, y: number, x: number, ch = 0) =>
  img.data[(y * img.width + x) * img.channels + ch];

describe('per-sample transforms', () => {
  it('toFloat scales uint8 to [0, 1] and never changes its input', () => {
    const data = new Uint8Array([0, 51, 255, 102]);
    const out = toFloat()({ data, height: 2, width: 2, channels: 1 });
    assertAllClose(out.data, [0, 0.2, 1, 0.4]);
    expect(Array.from(data)).toEqual([0, 51, 255, 102]);
  });

  it('normalize: per-channel mean ~ 0 and std ~ 1 after normalizing with the image stats', () => {
    const img = randomImage(16, 16, 3);
    const mean = [0, 1, 2].map((c) => {
      let s = 0;
      for (let p = 0; p < 256; p++) s += img.data[p * 3 + c];
      return s / 256;
    });
    const std = [0, 1, 2].map((c) => {
      let s = 0;
      for (let p = 0; p < 256; p++) s += (img.data[p * 3 + c] - mean[c]) ** 2;
      return Math.sqrt(s / 256);
    });
    const out = normalize({ mean, std })(img);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      for (let p = 0; p < 256; p++) {
        s += out.data[p * 3 + c];
        s2 += out.data[p * 3 + c] ** 2;
      }
      expect(Math.abs(s / 256)).toBeLessThan(1e-5);
      expect(Math.abs(s2 / 256 - 1)).toBeLessThan(1e-4);
    }
    expect(() => normalize({ mean: [0, 0], std: [1, 1] })(img)).toThrow(
      /2 values for an image with 3 channels/,
    );
    expect(() => normalize({ mean: 0, std: 0 })(img)).toThrow(/std contains 0/);
  });

  it('horizontal flip twice is the identity; a flip mirrors columns', () => {
    const img = randomImage(5, 6, 3);
    const once = horizontalFlip()(img);
    expect(at(once, 2, 0, 1)).toBe(at(img, 2, 5, 1));
    expect(Array.from(horizontalFlip()(once).data)).toEqual(Array.from(img.data));
    const r = new RandomSource(3);
    const always = randomHorizontalFlip({ p: 1 })(img, r);
    expect(Array.from(always.data)).toEqual(Array.from(once.data));
    expect(randomHorizontalFlip({ p: 0 })(img, r).data).toEqual(img.data);
    const v = randomVerticalFlip({ p: 1 })(img, r);
    expect(at(v, 0, 3, 2)).toBe(at(img, 4, 3, 2));
  });

  it('randomCrop: output shape, padding fill, and seeded reproducibility', () => {
    const img = randomImage(28, 28, 1);
    const crop = randomCrop({ size: 28, padding: 4 });
    const a = crop(img, new RandomSource(7));
    const b = crop(img, new RandomSource(7));
    expect([a.height, a.width, a.channels]).toEqual([28, 28, 1]);
    expect(a.data).toEqual(b.data);
    // Every output value is either an input value or the fill (0).
    const values = new Set(img.data);
    for (const v of a.data) expect(v === 0 || values.has(v)).toBe(true);
    const small = randomCrop({ size: [3, 5] })(img, new RandomSource(1));
    expect([small.height, small.width]).toEqual([3, 5]);
    // Modes: reflect / edge near a corner of a padded crop.
    const tiny: FloatImage = {
      data: Float32Array.from([1, 2, 3, 4]),
      height: 2,
      width: 2,
      channels: 1,
    };
    const padded = (mode: 'edge' | 'reflect' | 'constant') => {
      // size 4 with padding 1 has exactly one possible window: the whole padded image.
      return Array.from(
        randomCrop({ size: 4, padding: 1, paddingMode: mode, fill: 9 })(tiny, new RandomSource(0))
          .data,
      );
    };
    expect(padded('constant')).toEqual([9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9]);
    expect(padded('edge')).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(padded('reflect')).toEqual([4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1]);
    expect(() => randomCrop({ size: 40 })(img)).toThrow(/larger than the padded image 28x28/);
    const cc = centerCrop(2)({
      data: Float32Array.from({ length: 16 }, (_, i) => i),
      height: 4,
      width: 4,
      channels: 1,
    });
    expect(Array.from(cc.data)).toEqual([5, 6, 9, 10]);
    // Offsets use Python's round (half to even), as torchvision: 3 -> 2 starts at 0, 5 -> 2 at 2.
    const grid = (n: number) => ({
      data: Float32Array.from({ length: n * n }, (_, i) => i),
      height: n,
      width: n,
      channels: 1,
    });
    expect(Array.from(centerCrop(2)(grid(3)).data)).toEqual([0, 1, 3, 4]);
    expect(Array.from(centerCrop(2)(grid(5)).data)).toEqual([12, 13, 17, 18]);
  });

  it('resize matches torch.nn.functional.interpolate(bilinear, align_corners=False)', () => {
    const [h, w, c] = fixture.image.shape;
    const img: FloatImage = {
      data: Float32Array.from(fixture.image.data),
      height: h,
      width: w,
      channels: c,
    };
    for (const r of fixture.resize) {
      const out = resize(r.size as [number, number])(img);
      expect([out.height, out.width, out.channels]).toEqual([...r.size, 3]);
      assertAllClose(out.data, r.data, { rtol: 1e-5, atol: 1e-6, label: `resize ${r.size}` });
    }
    expect(resize([h, w])(img).data).toEqual(img.data);
  });

  it('rotate matches torchvision F.rotate(bilinear) and 90 degrees is an exact transpose-flip', () => {
    const [h, w, c] = fixture.image.shape;
    const img: FloatImage = {
      data: Float32Array.from(fixture.image.data),
      height: h,
      width: w,
      channels: c,
    };
    for (const r of fixture.rotate) {
      assertAllClose(rotate(img, r.angle).data, r.data, {
        rtol: 1e-4,
        atol: 1e-5,
        label: `rotate ${r.angle}`,
      });
    }
    const sq = randomImage(5, 5, 2);
    const r90 = rotate(sq, 90);
    // Counter-clockwise: the top row of the output is the right column of the input.
    for (let x = 0; x < 5; x++) expect(at(r90, 0, x, 1)).toBeCloseTo(at(sq, x, 4, 1), 6);
    expect(rotate(sq, 0).data).toEqual(sq.data);
    const filled = rotate(
      { data: new Float32Array(64).fill(0.5), height: 8, width: 8, channels: 1 },
      45,
      1,
    );
    expect(at(filled, 0, 0)).toBe(1); // corner comes from outside: fill
    expect(at(filled, 4, 4)).toBeCloseTo(0.5, 6);
    const rr = randomRotation({ degrees: 10 });
    expect(rr(sq, new RandomSource(4)).data).toEqual(rr(sq, new RandomSource(4)).data);
  });

  it('colorJitter: brightness scales and clamps, contrast keeps the mean, saturation 0 makes grey', () => {
    const img = randomImage(8, 8, 3);
    const bright = colorJitter({ brightness: [2, 2] })(img, new RandomSource(1));
    for (let i = 0; i < img.data.length; i++)
      expect(bright.data[i]).toBeCloseTo(Math.min(1, img.data[i] * 2), 6);
    const [h, w, c] = fixture.image.shape;
    const ref: FloatImage = {
      data: Float32Array.from(fixture.image.data),
      height: h,
      width: w,
      channels: c,
    };
    for (const j of fixture.jitter) {
      const out = colorJitter({ [j.op]: [j.factor, j.factor] })(ref, new RandomSource(0));
      assertAllClose(out.data, j.data, { rtol: 1e-5, atol: 1e-6, label: `${j.op} ${j.factor}` });
    }
    const grey = colorJitter({ saturation: [0, 0] })(img, new RandomSource(1));
    for (let p = 0; p < 64; p++) {
      expect(grey.data[p * 3]).toBeCloseTo(grey.data[p * 3 + 1], 6);
      expect(grey.data[p * 3 + 1]).toBeCloseTo(grey.data[p * 3 + 2], 6);
    }
    const flat = colorJitter({ contrast: [0, 0] })(img, new RandomSource(1));
    expect(new Set(flat.data).size).toBe(1); // every value = the mean grey level
    const j = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4 });
    const a = j(img, new RandomSource(9));
    expect(a.data).toEqual(j(img, new RandomSource(9)).data);
    expect(a.data).not.toEqual(img.data);
    for (const v of a.data) expect(v >= 0 && v <= 1).toBe(true);
    expect(img.data).toEqual(randomImage(8, 8, 3).data); // input untouched
  });

  it('randomErasing erases one box with the value, or nothing with p = 0', () => {
    const img: FloatImage = {
      data: new Float32Array(32 * 32 * 3).fill(1),
      height: 32,
      width: 32,
      channels: 3,
    };
    const out = randomErasing({ p: 1, value: [0, 0, 0] })(img, new RandomSource(2));
    let ys: number[] = [];
    let xs: number[] = [];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        if (at(out, y, x) === 0) {
          ys.push(y);
          xs.push(x);
          expect(at(out, y, x, 2)).toBe(0);
        }
      }
    }
    const area = ys.length;
    expect(area).toBeGreaterThan(0.02 * 1024 * 0.5);
    expect(area).toBeLessThan(0.33 * 1024 * 1.5);
    // It is a filled rectangle.
    ys = [...new Set(ys)];
    xs = [...new Set(xs)];
    expect(ys.length * xs.length).toBe(area);
    expect(randomErasing({ p: 0 })(img, new RandomSource(2)).data).toEqual(img.data);
    expect(img.data.every((v) => v === 1)).toBe(true);
  });

  it('compose chains in order and is reproducible from a seed; randomApply', () => {
    const img = randomImage(12, 12, 3);
    const t = compose([
      randomCrop({ size: 10, padding: 2 }),
      randomHorizontalFlip(),
      colorJitter({ brightness: 0.2 }),
      normalize({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
    ]);
    const a = t(img, new RandomSource(5));
    expect([a.height, a.width]).toEqual([10, 10]);
    expect(a.data).toEqual(t(img, new RandomSource(5)).data);
    expect(a.data).not.toEqual(t(img, new RandomSource(6)).data);
    const flipHalf = randomApply(horizontalFlip(), { p: 0.5 });
    const r = new RandomSource(1);
    let flips = 0;
    for (let i = 0; i < 200; i++) if (flipHalf(img, r).data[0] !== img.data[0]) flips++;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });
});
