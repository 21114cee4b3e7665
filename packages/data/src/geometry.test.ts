// Affine, resized crop, Gaussian blur and the colour ops against torchvision 0.14 with the same
// fixed parameters (fixtures/geometry.py), plus the distributions of the random parameters.
import { RandomSource } from '@convkit/backend';
import { assertAllClose } from '@convkit/tooling/testing';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/geometry.json';
import type { FloatImage } from './dataset';
import {
  type AffineParams,
  adjustSharpness,
  affine,
  autocontrast,
  equalize,
  gaussianBlur,
  grayscale,
  invert,
  posterize,
  randomAffine,
  randomAffineParams,
  randomGaussianBlur,
  randomGrayscale,
  randomResizedCrop,
  randomResizedCropParams,
  resizedCrop,
  rgbToGrayscale,
  rotate,
  solarize,
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
const mask = asImage(fixture.mask);

describe('affine matches torchvision F.affine', () => {
  for (const [k, c] of fixture.affine.entries()) {
    const p = c.params as unknown as AffineParams & { center?: [number, number] };
    it(`case ${k}: ${JSON.stringify(p)} ${c.interpolation}${'mask' in c ? ' (mask)' : ''}`, () => {
      const out = affine('mask' in c ? mask : image, p, {
        interpolation: c.interpolation as 'nearest' | 'bilinear',
        fill: c.fill ?? undefined,
        center: p.center,
      });
      if (c.interpolation === 'bilinear') {
        assertAllClose(out.data, c.data, { atol: 2e-6, rtol: 1e-5 });
      } else {
        expect(Array.from(out.data)).toEqual(c.data.map(Math.fround));
      }
    });
  }

  it('affine with -angle is rotate (bilinear), and refuses bad parameters', () => {
    const params = { angle: -30, translate: [0, 0], scale: 1, shear: [0, 0] } as const;
    assertAllClose(
      affine(image, params, { interpolation: 'bilinear' }).data,
      rotate(image, 30).data,
      {
        atol: 1e-6,
      },
    );
    expect(() => affine(image, { ...params, scale: 0 })).toThrow(/scale must be > 0, received 0/);
    expect(() => affine(image, params, { interpolation: 'cubic' as never })).toThrow(
      /interpolation must be 'nearest' or 'bilinear', received cubic/,
    );
  });

  it('randomAffine draws parameters in their ranges, translations rounded to pixels', () => {
    const r = new RandomSource(5);
    const opts = {
      degrees: 20,
      translate: [0.1, 0.2] as const,
      scale: [0.9, 1.1] as const,
      shear: [-5, 5, 0, 10] as const,
    };
    const angles: number[] = [];
    for (let i = 0; i < 400; i++) {
      const p = randomAffineParams(opts, 30, 40, r);
      angles.push(p.angle);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(20);
      expect(Number.isInteger(p.translate[0]) && Math.abs(p.translate[0]) <= 4).toBe(true);
      expect(Number.isInteger(p.translate[1]) && Math.abs(p.translate[1]) <= 6).toBe(true);
      expect(p.scale).toBeGreaterThanOrEqual(0.9);
      expect(p.scale).toBeLessThanOrEqual(1.1);
      expect(Math.abs(p.shear[0])).toBeLessThanOrEqual(5);
      expect(p.shear[1]).toBeGreaterThanOrEqual(0);
      expect(p.shear[1]).toBeLessThanOrEqual(10);
    }
    const mean = angles.reduce((a, b) => a + b, 0) / angles.length;
    expect(Math.abs(mean)).toBeLessThan(2); // uniform on [-20, 20]: sd of the mean ~0.58
    expect(Math.min(...angles)).toBeLessThan(-18);
    expect(Math.max(...angles)).toBeGreaterThan(18);
    // The transform applies the parameters the same stream draws.
    const a = randomAffine(opts)(image, new RandomSource(8));
    const p = randomAffineParams(opts, image.height, image.width, new RandomSource(8));
    expect(a.data).toEqual(affine(image, p, { fill: 0 }).data);
    expect(() => randomAffine({ degrees: -1 })).toThrow(/degrees must be >= 0, received -1/);
    expect(() => randomAffine({ degrees: 0, translate: [2, 0] })).toThrow(/translate must be/);
  });
});

describe('resizedCrop matches torchvision F.resized_crop', () => {
  for (const c of fixture.resized_crop) {
    it(`box ${c.box} -> ${c.size} ${c.interpolation}`, () => {
      const [top, left, height, width] = c.box;
      const out = resizedCrop(image, { top, left, height, width }, c.size as [number, number], {
        interpolation: c.interpolation as 'nearest' | 'bilinear',
      });
      assertAllClose(out.data, c.data, { atol: 1e-6, rtol: 1e-5 });
    });
  }
});

describe('randomResizedCrop samples as torchvision', () => {
  it('boxes fit, area and ratio within range, positions cover the image', () => {
    const r = new RandomSource(1);
    const tops = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const b = randomResizedCropParams(40, 60, {}, r);
      expect(b.top >= 0 && b.left >= 0).toBe(true);
      expect(b.top + b.height <= 40 && b.left + b.width <= 60).toBe(true);
      const area = (b.height * b.width) / 2400;
      // Rounding w and h to pixels moves area and ratio a little beyond the nominal range.
      expect(area).toBeGreaterThan(0.06);
      const ratio = b.width / b.height;
      expect(ratio).toBeGreaterThan(0.75 * 0.75);
      expect(ratio).toBeLessThan((4 / 3) * 1.34);
      tops.add(b.top);
    }
    expect(tops.size).toBeGreaterThan(20);
  });

  // torchvision's get_params drawn 20000 times (torch's generator) vs ours 20000 times: the
  // moments of the area fraction and of log(width / height) agree within sampling error
  // (5 standard errors of a 20000-draw mean: the two samples are independent).
  for (const s of fixture.resized_crop_stats) {
    it(`area and ratio moments match torchvision: ${s.size}, scale ${s.scale}, ratio ${s.ratio.map((v) => v.toFixed(2))}`, () => {
      const r = new RandomSource(11);
      const n = 20000;
      const areas = new Float64Array(n);
      const logs = new Float64Array(n);
      const [h, w] = s.size;
      for (let i = 0; i < n; i++) {
        const b = randomResizedCropParams(
          h,
          w,
          { scale: s.scale as [number, number], ratio: s.ratio as [number, number] },
          r,
        );
        areas[i] = (b.height * b.width) / (h * w);
        logs[i] = Math.log(b.width / b.height);
      }
      const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
      const std = (a: Float64Array) => {
        const m = mean(a);
        return Math.sqrt(mean(a.map((v) => (v - m) ** 2)));
      };
      const se = (sd: number) => 5 * Math.SQRT2 * (sd / Math.sqrt(n));
      expect(Math.abs(mean(areas) - s.areaMean)).toBeLessThan(se(s.areaStd));
      expect(Math.abs(mean(logs) - s.logRatioMean)).toBeLessThan(se(s.logRatioStd));
      expect(Math.abs(std(areas) - s.areaStd)).toBeLessThan(0.05 * s.areaStd);
      expect(Math.abs(std(logs) - s.logRatioStd)).toBeLessThan(0.05 * s.logRatioStd);
    });
  }

  it('falls back to the centred box clamped to the ratio range after 10 misses', () => {
    // A 10 x 100 strip with ratio [1, 1] and area >= 0.5: no square of that area fits.
    const r = new RandomSource(2);
    const box = randomResizedCropParams(10, 100, { scale: [0.5, 1], ratio: [1, 1] }, r);
    expect(box).toEqual({ top: 0, left: 45, height: 10, width: 10 });
    // A tall image: width kept, height = round(width / min ratio).
    expect(randomResizedCropParams(100, 10, { scale: [0.9, 1], ratio: [2, 3] }, r)).toEqual({
      top: 47,
      left: 0,
      height: 5,
      width: 10,
    });
    // Ratio inside the range: the whole image.
    expect(randomResizedCropParams(10, 100, { scale: [1, 1], ratio: [0.05, 20] }, r).width).toBe(
      100,
    );
  });

  it('the transform resizes the box it draws', () => {
    const t = randomResizedCrop({ size: [6, 5], scale: [0.3, 0.9] });
    const out = t(image, new RandomSource(4));
    const box = randomResizedCropParams(9, 11, { scale: [0.3, 0.9] }, new RandomSource(4));
    expect([out.height, out.width, out.channels]).toEqual([6, 5, 3]);
    expect(out.data).toEqual(resizedCrop(image, box, [6, 5]).data);
    expect(() => randomResizedCrop({ size: 4, scale: [0, 1] })).toThrow(/scale must be/);
  });
});

describe('gaussianBlur matches torchvision F.gaussian_blur', () => {
  for (const c of fixture.blur) {
    it(`kernel ${c.kernelSize}, sigma ${c.sigma}`, () => {
      const out = gaussianBlur(
        image,
        c.kernelSize as [number, number],
        c.sigma as [number, number],
      );
      assertAllClose(out.data, c.data, { atol: 2e-6, rtol: 1e-5 });
    });
  }

  it('randomGaussianBlur draws sigma in range; refuses even kernels', () => {
    const t = randomGaussianBlur({ kernelSize: 5, sigma: [0.5, 1.5] });
    const r = new RandomSource(3);
    const sigma = new RandomSource(3).uniform(0.5, 1.5);
    expect(t(image, r).data).toEqual(gaussianBlur(image, 5, sigma).data);
    expect(() => randomGaussianBlur({ kernelSize: 4 })).toThrow(/odd positive integers/);
    expect(() => gaussianBlur(image, 3, 0)).toThrow(/sigma must be > 0/);
  });
});

describe('colour ops match torchvision', () => {
  const col = fixture.color;
  it('rgb_to_grayscale (1 and 3 channels), Grayscale, RandomGrayscale', () => {
    assertAllClose(rgbToGrayscale(image).data, col.grayscale1, { atol: 1e-6 });
    assertAllClose(grayscale({ outputChannels: 3 })(image).data, col.grayscale3, { atol: 1e-6 });
    const t = randomGrayscale({ p: 0.3 });
    const r = new RandomSource(6);
    let grey = 0;
    for (let i = 0; i < 1000; i++) {
      const out = t(image, r);
      expect(out.channels).toBe(3);
      if (out.data[0] === out.data[1] && out.data[1] === out.data[2]) grey++;
    }
    expect(grey).toBeGreaterThan(250);
    expect(grey).toBeLessThan(350);
  });

  it('sharpness, autocontrast, invert, solarize on float images', () => {
    assertAllClose(adjustSharpness(image, 0.3).data, col['sharpness_0.3'], { atol: 1e-6 });
    assertAllClose(adjustSharpness(image, 1.9).data, col['sharpness_1.9'], { atol: 1e-6 });
    const dim = { ...image, data: image.data.map((v) => v * 0.5 + 0.2) };
    assertAllClose(autocontrast(dim).data, col.autocontrast, { atol: 1e-6 });
    assertAllClose(invert(image).data, col.invert, { atol: 1e-7 });
    assertAllClose(solarize(image, 0.4).data, col['solarize_0.4'], { atol: 1e-7 });
  });

  it('posterize and equalize on 8-bit levels', () => {
    const scaled = (v: number[]) => v.map((x) => x / 255);
    assertAllClose(posterize(u8AsFloat, 3).data, scaled(col.posterize_3), { atol: 1e-7 });
    assertAllClose(posterize(u8AsFloat, 6).data, scaled(col.posterize_6), { atol: 1e-7 });
    assertAllClose(equalize(u8AsFloat).data, scaled(col.equalize), { atol: 1e-7 });
    const narrow = { ...u8, data: u8.data.map((v) => (Math.floor(v / 16) + 100) / 255) };
    assertAllClose(equalize(narrow).data, scaled(col.equalize_narrow), { atol: 1e-7 });
    expect(() => posterize(image, 9)).toThrow(/bits must be an integer in \[0, 8\], received 9/);
  });
});
