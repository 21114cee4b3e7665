import { globalRandom, type RandomSource } from '@convkit/backend';
import { adjustBrightness, adjustContrast, adjustSaturation } from './color';
import type { FloatImage, Image } from './dataset';
import {
  asFloatImage,
  blankImage,
  fillValues,
  sampleBilinear,
  toFloatImage,
} from './internal/image-ops';

/**
 * A per-sample transform: takes an image (uint8 images are first scaled to [0, 1]) and a random
 * source, returns a float image. The input is never modified (views into a dataset's memory
 * stay intact); a transform that changes nothing may return its (float) input itself. Random transforms draw only from `random` (default: the global source);
 * the `DataLoader` passes a stream derived from (seed, epoch, batch), so a seed reproduces every
 * augmentation and resuming a run reproduces the batches it would have produced.
 *
 * Why per sample on typed arrays: each sample gets its own crop offset, flip, angle and colour
 * factors; on the CPU that is a loop over a few thousand floats, while in tfjs it would be a
 * handful of small tensors and kernel launches per sample. The loader writes the results into
 * one batch buffer and uploads it once. Batch-level mixing (MixUp, CutMix) runs on that buffer
 * too, before the upload; see `batch-transforms.ts`.
 */
export type ImageTransform = (image: Image, random?: RandomSource) => FloatImage;

/** Chain transforms left to right (torchvision's `Compose`). */
export function compose(transforms: readonly ImageTransform[]): ImageTransform {
  return (image, random) => {
    const r = random ?? globalRandom();
    let out = asFloatImage(image);
    for (const t of transforms) out = t(out, r);
    return out;
  };
}

/** Scale uint8 images to [0, 1] floats (what the loader does anyway; useful in `compose`). */
export function toFloat(): ImageTransform {
  return (image) => toFloatImage(image);
}

function perChannel(value: number | readonly number[], channels: number, what: string): number[] {
  if (typeof value === 'number') return new Array(channels).fill(value);
  if (value.length === 1) return new Array(channels).fill(value[0]);
  if (value.length !== channels) {
    throw new Error(`${what}: ${value.length} values for an image with ${channels} channels`);
  }
  return [...value];
}

/** `(x - mean[c]) / std[c]` per channel, as torchvision's `Normalize`. */
export function normalize(options: {
  mean: number | readonly number[];
  std: number | readonly number[];
}): ImageTransform {
  return (image) => {
    const c = image.channels;
    const mean = perChannel(options.mean, c, 'normalize: mean');
    const std = perChannel(options.std, c, 'normalize: std');
    if (std.some((s) => s === 0)) throw new Error(`normalize: std contains 0: [${std}]`);
    // Uint8 input is scaled by 1/255 in the same pass (no intermediate float copy).
    const scale = image.data instanceof Float32Array ? 1 : 1 / 255;
    const inv = std.map((s) => 1 / s);
    const mul = inv.map((v) => v * scale);
    const out = new Float32Array(image.data.length);
    const d = image.data;
    for (let i = 0; i < d.length; i += c) {
      for (let ch = 0; ch < c; ch++) out[i + ch] = d[i + ch] * mul[ch] - mean[ch] * inv[ch];
    }
    return { data: out, height: image.height, width: image.width, channels: c };
  };
}

export type Size = number | readonly [number, number];

/** Python's `round` (half to even), which torchvision uses for crop offsets and box sizes. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function size2(size: Size, what: string): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new Error(
      `${what}: expected a positive integer size or [height, width], received ${size}`,
    );
  }
  return [h, w];
}

export type PaddingMode = 'constant' | 'edge' | 'reflect';

/** Map a possibly out-of-range index into [0, n) for a padding mode; -1 means "fill". */
export function padIndex(v: number, n: number, mode: PaddingMode): number {
  if (v >= 0 && v < n) return v;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return v < 0 ? 0 : n - 1;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = v % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/** Copy the window of `src` at (top, left) (may reach outside; padding per `mode`). */
export function cropWindow(
  src: FloatImage,
  top: number,
  left: number,
  h: number,
  w: number,
  mode: PaddingMode,
  fill: Float32Array,
): FloatImage {
  const c = src.channels;
  const out = blankImage(h, w, c);
  const o = out.data;
  const d = src.data;
  for (let y = 0; y < h; y++) {
    const sy = padIndex(top + y, src.height, mode);
    for (let x = 0; x < w; x++) {
      const sx = padIndex(left + x, src.width, mode);
      const dst = (y * w + x) * c;
      if (sy < 0 || sx < 0) {
        for (let ch = 0; ch < c; ch++) o[dst + ch] = fill[ch];
      } else {
        const p = (sy * src.width + sx) * c;
        for (let ch = 0; ch < c; ch++) o[dst + ch] = d[p + ch];
      }
    }
  }
  return out;
}

export interface RandomCropOptions {
  /** Output size: `n` for n x n, or [height, width]. */
  size: Size;
  /** Padding before cropping: all sides, [left/right, top/bottom] or [left, top, right, bottom]. */
  padding?: number | readonly number[];
  /** Value of constant padding (one number or one per channel). Default 0. */
  fill?: number | readonly number[];
  /** 'constant' (default), 'edge' or 'reflect' (torchvision's padding modes). */
  paddingMode?: PaddingMode;
}

/**
 * Pad, then crop a random window (torchvision's `RandomCrop`, e.g. `{ size: 32, padding: 4 }`
 * for CIFAR). Shape: [H, W, C] -> [size, size, C].
 */
export function randomCrop(options: RandomCropOptions): ImageTransform {
  const [h, w] = size2(options.size, 'randomCrop');
  const p = options.padding ?? 0;
  const pad =
    typeof p === 'number'
      ? [p, p, p, p]
      : p.length === 2
        ? [p[0], p[1], p[0], p[1]]
        : p.length === 4
          ? [...p]
          : null;
  if (!pad || pad.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`randomCrop: padding must be n, [lr, tb] or [l, t, r, b], received ${p}`);
  }
  const [pl, pt, pr, pb] = pad;
  const mode = options.paddingMode ?? 'constant';
  return (image, random) => {
    const r = random ?? globalRandom();
    const src = asFloatImage(image);
    const ph = src.height + pt + pb;
    const pw = src.width + pl + pr;
    if (ph < h || pw < w) {
      throw new Error(`randomCrop: crop ${h}x${w} is larger than the padded image ${ph}x${pw}`);
    }
    const top = r.int(0, ph - h + 1);
    const left = r.int(0, pw - w + 1);
    const fill = fillValues(options.fill ?? 0, src.channels, 'randomCrop');
    return cropWindow(src, top - pt, left - pl, h, w, mode, fill);
  };
}

/** Crop the centre (torchvision's `CenterCrop`; pads with 0 when the image is smaller). */
export function centerCrop(size: Size): ImageTransform {
  const [h, w] = size2(size, 'centerCrop');
  return (image) => {
    const src = asFloatImage(image);
    const top = roundHalfEven((src.height - h) / 2);
    const left = roundHalfEven((src.width - w) / 2);
    return cropWindow(src, top, left, h, w, 'constant', new Float32Array(src.channels));
  };
}

export function flip(src: FloatImage, horizontal: boolean): FloatImage {
  const { height: h, width: w, channels: c, data } = src;
  const out = blankImage(h, w, c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = horizontal ? y : h - 1 - y;
      const sx = horizontal ? w - 1 - x : x;
      const s = (sy * w + sx) * c;
      const d = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) out.data[d + ch] = data[s + ch];
    }
  }
  return out;
}

/** Mirror left-right with probability `p` (default 0.5). */
export function randomHorizontalFlip(options: { p?: number } = {}): ImageTransform {
  const p = options.p ?? 0.5;
  return (image, random) => {
    const src = asFloatImage(image);
    const r = random ?? globalRandom();
    return r.next() < p ? flip(src, true) : src;
  };
}

/** Mirror top-bottom with probability `p` (default 0.5). */
export function randomVerticalFlip(options: { p?: number } = {}): ImageTransform {
  const p = options.p ?? 0.5;
  return (image, random) => {
    const src = asFloatImage(image);
    const r = random ?? globalRandom();
    return r.next() < p ? flip(src, false) : src;
  };
}

/** Mirror left-right (always). */
export function horizontalFlip(): ImageTransform {
  return (image) => flip(asFloatImage(image), true);
}

/**
 * Rotate by `degrees` counter-clockwise about the image centre, bilinear, same output size;
 * pixels from outside the image take `fill`. Matches torchvision
 * `F.rotate(img, angle, InterpolationMode.BILINEAR)` on tensors (checked against a fixture);
 * at the border torchvision blends fill as `img * mask + (1 - mask) * fill`, here outside
 * neighbours simply count as `fill` (identical for fill 0).
 */
export function rotate(
  image: Image,
  degrees: number,
  fill: number | readonly number[] = 0,
): FloatImage {
  const src = asFloatImage(image);
  const { height: h, width: w, channels: c } = src;
  const fillC = fillValues(fill, c, 'rotate');
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const out = blankImage(h, w, c);
  for (let y = 0; y < h; y++) {
    const dy = y - cy;
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      sampleBilinear(src, sx, sy, fillC, out.data, (y * w + x) * c);
    }
  }
  return out;
}

/** Rotate by an angle uniform in [-degrees, degrees] (or [min, max]); bilinear, see `rotate`. */
export function randomRotation(options: {
  degrees: number | readonly [number, number];
  fill?: number | readonly number[];
}): ImageTransform {
  const d = options.degrees;
  const [lo, hi] = typeof d === 'number' ? [-Math.abs(d), Math.abs(d)] : d;
  if (!(hi >= lo)) throw new Error(`randomRotation: expected min <= max, received [${lo}, ${hi}]`);
  return (image, random) => {
    const r = random ?? globalRandom();
    return rotate(image, r.uniform(lo, hi), options.fill ?? 0);
  };
}

/**
 * Bilinear resize to `size` (half-pixel centres, no antialiasing: PyTorch's
 * `F.interpolate(mode='bilinear', align_corners=False)`, torchvision's tensor `Resize` with
 * `antialias=False`; checked against a fixture).
 */
export function resize(size: Size): ImageTransform {
  const [oh, ow] = size2(size, 'resize');
  return (image) => resizeImage(asFloatImage(image), oh, ow);
}

function axisWeights(inSize: number, outSize: number) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const s = Math.max(0, (o + 0.5) * scale - 0.5);
    const f = Math.floor(s);
    i0[o] = Math.min(f, inSize - 1);
    i1[o] = Math.min(f + 1, inSize - 1);
    t[o] = s - f;
  }
  return { i0, i1, t };
}

export function resizeImage(src: FloatImage, oh: number, ow: number): FloatImage {
  const { height: h, width: w, channels: c, data } = src;
  if (h === oh && w === ow) return src;
  const ys = axisWeights(h, oh);
  const xs = axisWeights(w, ow);
  const out = blankImage(oh, ow, c);
  const o = out.data;
  for (let y = 0; y < oh; y++) {
    const r0 = ys.i0[y] * w;
    const r1 = ys.i1[y] * w;
    const ty = ys.t[y];
    for (let x = 0; x < ow; x++) {
      const tx = xs.t[x];
      const p00 = (r0 + xs.i0[x]) * c;
      const p01 = (r0 + xs.i1[x]) * c;
      const p10 = (r1 + xs.i0[x]) * c;
      const p11 = (r1 + xs.i1[x]) * c;
      const d = (y * ow + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const top = data[p00 + ch] * (1 - tx) + data[p01 + ch] * tx;
        const bottom = data[p10 + ch] * (1 - tx) + data[p11 + ch] * tx;
        o[d + ch] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

function factorRange(value: number | readonly [number, number] | undefined, what: string) {
  if (value === undefined) return null;
  if (typeof value === 'number') {
    if (value < 0) throw new Error(`colorJitter: ${what} must be >= 0, received ${value}`);
    return value === 0 ? null : ([Math.max(0, 1 - value), 1 + value] as const);
  }
  if (!(value[0] >= 0 && value[1] >= value[0])) {
    throw new Error(`colorJitter: ${what} range must be 0 <= min <= max, received [${value}]`);
  }
  return value;
}

/**
 * Random brightness, contrast and saturation (torchvision's `ColorJitter` without hue): each
 * factor is uniform in [max(0, 1 - v), 1 + v] (or an explicit [min, max]), the three are
 * applied in a random order, and results are clamped to [0, 1], so apply it to [0, 1] images
 * (before `normalize`). Brightness scales; contrast blends with the mean grey level;
 * saturation blends with the per-pixel grey (a no-op on one-channel images); each matches
 * torchvision's `adjust_brightness` / `adjust_contrast` / `adjust_saturation` on tensors
 * (checked against a fixture). Images need 1 or 3 channels (a 4th, alpha, is left alone).
 */
export function colorJitter(options: {
  brightness?: number | readonly [number, number];
  contrast?: number | readonly [number, number];
  saturation?: number | readonly [number, number];
}): ImageTransform {
  const ranges = [
    factorRange(options.brightness, 'brightness'),
    factorRange(options.contrast, 'contrast'),
    factorRange(options.saturation, 'saturation'),
  ];
  const adjust = [adjustBrightness, adjustContrast, adjustSaturation];
  return (image, random) => {
    const r = random ?? globalRandom();
    let out = asFloatImage(image);
    const c = out.channels;
    if (c !== 1 && c !== 3 && c !== 4) {
      throw new Error(`colorJitter: expected 1, 3 or 4 channels, received ${c}`);
    }
    for (const op of r.permutation(3)) {
      const range = ranges[op];
      if (range) out = adjust[op](out, r.uniform(range[0], range[1]));
    }
    return out;
  };
}

export interface RandomErasingOptions {
  /** Probability of erasing (default 0.5). */
  p?: number;
  /** Range of the erased area as a fraction of the image (default [0.02, 0.33]). */
  scale?: readonly [number, number];
  /** Range of the box aspect ratio (default [0.3, 3.3], sampled log-uniformly). */
  ratio?: readonly [number, number];
  /** Erase with 0 (default), a value per channel, or 'random' (standard normal noise). */
  value?: number | readonly number[] | 'random';
}

/**
 * Erase a random box (torchvision's `RandomErasing`, Zhong et al. 2017): up to 10 attempts to
 * draw an area and aspect ratio whose box fits; if none fits the image is left unchanged.
 * Usually applied after `normalize`.
 */
export function randomErasing(options: RandomErasingOptions = {}): ImageTransform {
  const p = options.p ?? 0.5;
  const [s0, s1] = options.scale ?? [0.02, 0.33];
  const [r0, r1] = options.ratio ?? [0.3, 3.3];
  if (!(s0 <= s1 && r0 <= r1 && s0 >= 0 && r0 > 0)) {
    throw new Error(`randomErasing: invalid scale [${s0}, ${s1}] or ratio [${r0}, ${r1}]`);
  }
  const value = options.value ?? 0;
  return (image, random) => {
    const r = random ?? globalRandom();
    const src = asFloatImage(image);
    if (r.next() >= p) return src;
    const out: FloatImage = { ...src, data: Float32Array.from(src.data) };
    const { height: H, width: W, channels: c } = src;
    const area = H * W;
    for (let attempt = 0; attempt < 10; attempt++) {
      const eraseArea = area * r.uniform(s0, s1);
      const aspect = Math.exp(r.uniform(Math.log(r0), Math.log(r1)));
      const h = roundHalfEven(Math.sqrt(eraseArea * aspect));
      const w = roundHalfEven(Math.sqrt(eraseArea / aspect));
      if (!(h < H && w < W)) continue;
      const top = r.int(0, H - h + 1);
      const left = r.int(0, W - w + 1);
      const fill = value === 'random' ? null : fillValues(value, c, 'randomErasing');
      for (let y = top; y < top + h; y++) {
        for (let x = left; x < left + w; x++) {
          const q = (y * W + x) * c;
          for (let ch = 0; ch < c; ch++) out.data[q + ch] = fill ? fill[ch] : r.normal();
        }
      }
      return out;
    }
    return out;
  };
}

/** Apply `transform` with probability `p` (torchvision's `RandomApply`). */
export function randomApply(
  transform: ImageTransform,
  options: { p?: number } = {},
): ImageTransform {
  const p = options.p ?? 0.5;
  return (image, random) => {
    const r = random ?? globalRandom();
    return r.next() < p ? transform(image, r) : asFloatImage(image);
  };
}
