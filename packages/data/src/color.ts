import { globalRandom } from '@convkit/backend';
import type { FloatImage, Image } from './dataset';
import { asFloatImage, LUMA } from './internal/image-ops';
import type { ImageTransform } from './transforms';

// Colour operations on float images in [0, 1], each matching torchvision's functional of the
// same name on float tensors (checked against fixtures). Images have 1 or 3 colour channels;
// a 4th (alpha) is left alone. The input is never modified.

const clamp01 = (v: number) => (v < 0 ? 0 : Math.min(v, 1));

function colourChannels(image: Image, what: string): number {
  const c = image.channels;
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new Error(`${what}: expected 1, 3 or 4 channels, received ${c}`);
  }
  return c === 1 ? 1 : 3;
}

function checkFactor(value: number, what: string): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new Error(`${what}: factor must be a finite number >= 0, received ${value}`);
  }
}

/** Apply `fn` to each colour value (alpha kept). */
function mapColour(image: Image, what: string, fn: (v: number, ch: number) => number): FloatImage {
  const src = asFloatImage(image);
  const colour = colourChannels(src, what);
  const c = src.channels;
  const d = Float32Array.from(src.data);
  for (let p = 0; p < d.length; p += c) {
    for (let ch = 0; ch < colour; ch++) d[p + ch] = fn(d[p + ch], ch);
  }
  return { ...src, data: d };
}

/** `clamp(f * x + (1 - f) * other, 0, 1)` over the colour channels (torchvision's `_blend`). */
function blend(src: FloatImage, other: Float32Array | number, f: number, what: string): FloatImage {
  const colour = colourChannels(src, what);
  const c = src.channels;
  const d = Float32Array.from(src.data);
  for (let p = 0; p < d.length; p += c) {
    for (let ch = 0; ch < colour; ch++) {
      const o = typeof other === 'number' ? other : other[p + ch];
      d[p + ch] = clamp01(f * d[p + ch] + (1 - f) * o);
    }
  }
  return { ...src, data: d };
}

/** The grey level of each pixel, 0.2989 R + 0.587 G + 0.114 B as torchvision's tensor op. */
function greyPlane(src: FloatImage): Float32Array {
  const { data, channels: c } = src;
  const pixels = src.height * src.width;
  const g = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const q = p * c;
    g[p] = c === 1 ? data[q] : LUMA[0] * data[q] + LUMA[1] * data[q + 1] + LUMA[2] * data[q + 2];
  }
  return g;
}

/**
 * torchvision's `F.rgb_to_grayscale` on tensors (ITU-R 601-2 luma with torchvision's weights
 * 0.2989, 0.587, 0.114): 3 (or 4, alpha dropped) channels -> `outputChannels` (1 or 3) copies
 * of the grey level. A one-channel image is returned as is (or repeated to 3 channels).
 */
export function rgbToGrayscale(image: Image, outputChannels: 1 | 3 = 1): FloatImage {
  if (outputChannels !== 1 && outputChannels !== 3) {
    throw new Error(`rgbToGrayscale: outputChannels must be 1 or 3, received ${outputChannels}`);
  }
  const src = asFloatImage(image);
  colourChannels(src, 'rgbToGrayscale');
  const g = greyPlane(src);
  if (outputChannels === 1) return { data: g, height: src.height, width: src.width, channels: 1 };
  const d = new Float32Array(g.length * 3);
  for (let p = 0; p < g.length; p++) d[3 * p] = d[3 * p + 1] = d[3 * p + 2] = g[p];
  return { data: d, height: src.height, width: src.width, channels: 3 };
}

/** torchvision's `Grayscale(num_output_channels)`. */
export function grayscale(options: { outputChannels?: 1 | 3 } = {}): ImageTransform {
  const n = options.outputChannels ?? 1;
  if (n !== 1 && n !== 3) {
    throw new Error(`grayscale: outputChannels must be 1 or 3, received ${n}`);
  }
  return (image) => rgbToGrayscale(image, n);
}

/**
 * torchvision's `RandomGrayscale(p)` (default 0.1): with probability p, the grey level in as
 * many channels as the input (1 or 3); otherwise the image unchanged.
 */
export function randomGrayscale(options: { p?: number } = {}): ImageTransform {
  const p = options.p ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new Error(`randomGrayscale: p must be in [0, 1], received ${p}`);
  return (image, random) => {
    const r = random ?? globalRandom();
    if (!(r.next() < p)) return asFloatImage(image);
    return rgbToGrayscale(image, image.channels === 1 ? 1 : 3);
  };
}

/** `clamp(f * x, 0, 1)`: torchvision's `adjust_brightness`. */
export function adjustBrightness(image: Image, factor: number): FloatImage {
  checkFactor(factor, 'adjustBrightness');
  return blend(asFloatImage(image), 0, factor, 'adjustBrightness');
}

/** Blend with the mean grey level: torchvision's `adjust_contrast`. */
export function adjustContrast(image: Image, factor: number): FloatImage {
  checkFactor(factor, 'adjustContrast');
  const src = asFloatImage(image);
  colourChannels(src, 'adjustContrast');
  const g = greyPlane(src);
  let sum = 0;
  for (let p = 0; p < g.length; p++) sum += g[p];
  return blend(src, sum / g.length, factor, 'adjustContrast');
}

/** Blend with each pixel's grey level: torchvision's `adjust_saturation` (a no-op on grey). */
export function adjustSaturation(image: Image, factor: number): FloatImage {
  checkFactor(factor, 'adjustSaturation');
  const src = asFloatImage(image);
  if (colourChannels(src, 'adjustSaturation') === 1) return src;
  const g = greyPlane(src);
  const c = src.channels;
  const other = new Float32Array(src.data.length);
  for (let p = 0; p < g.length; p++) other[p * c] = other[p * c + 1] = other[p * c + 2] = g[p];
  return blend(src, other, factor, 'adjustSaturation');
}

/**
 * Blend with a smoothed copy (3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 inside, border
 * pixels kept): torchvision's `adjust_sharpness`. Images smaller than 3x3 are returned as is.
 */
export function adjustSharpness(image: Image, factor: number): FloatImage {
  checkFactor(factor, 'adjustSharpness');
  const src = asFloatImage(image);
  const colour = colourChannels(src, 'adjustSharpness');
  const { height: h, width: w, channels: c, data } = src;
  if (h <= 2 || w <= 2) return src;
  const smooth = Float32Array.from(data);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let ch = 0; ch < colour; ch++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            s += data[((y + dy) * w + x + dx) * c + ch] * (dx === 0 && dy === 0 ? 5 : 1);
          }
        }
        smooth[(y * w + x) * c + ch] = s / 13;
      }
    }
  }
  return blend(src, smooth, factor, 'adjustSharpness');
}

/** `1 - x`: torchvision's `invert`. */
export function invert(image: Image): FloatImage {
  return mapColour(image, 'invert', (v) => 1 - v);
}

/** Invert the values >= threshold (in [0, 1]): torchvision's `solarize`. */
export function solarize(image: Image, threshold: number): FloatImage {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new Error(
      `solarize: threshold must be in [0, 1] for float images, received ${threshold}`,
    );
  }
  return mapColour(image, 'solarize', (v) => (v >= threshold ? 1 - v : v));
}

/** The 8-bit level of a [0, 1] value (values are clamped, then rounded). */
const level = (v: number) => Math.round(clamp01(v) * 255);

/**
 * Keep the `bits` high bits of each 8-bit level: torchvision's `posterize` (which takes uint8
 * images) on `round(255 x)`, returned as level / 255.
 */
export function posterize(image: Image, bits: number): FloatImage {
  if (!Number.isInteger(bits) || bits < 0 || bits > 8) {
    throw new Error(`posterize: bits must be an integer in [0, 8], received ${bits}`);
  }
  const mask = (0xff << (8 - bits)) & 0xff;
  return mapColour(image, 'posterize', (v) => (level(v) & mask) / 255);
}

/** Stretch each channel to span [0, 1] (a constant channel is kept): torchvision's `autocontrast`. */
export function autocontrast(image: Image): FloatImage {
  const src = asFloatImage(image);
  const colour = colourChannels(src, 'autocontrast');
  const c = src.channels;
  const lo = new Array(colour).fill(Number.POSITIVE_INFINITY);
  const hi = new Array(colour).fill(Number.NEGATIVE_INFINITY);
  for (let p = 0; p < src.data.length; p += c) {
    for (let ch = 0; ch < colour; ch++) {
      lo[ch] = Math.min(lo[ch], src.data[p + ch]);
      hi[ch] = Math.max(hi[ch], src.data[p + ch]);
    }
  }
  const scale = lo.map((l, ch) => (hi[ch] > l ? 1 / (hi[ch] - l) : 1));
  const min = lo.map((l, ch) => (hi[ch] > l ? l : 0));
  return mapColour(src, 'autocontrast', (v, ch) => clamp01((v - min[ch]) * scale[ch]));
}

/**
 * Histogram equalization per channel on the 8-bit levels `round(255 x)`: torchvision's
 * `equalize` (which takes uint8 images; same lookup table), returned as level / 255.
 */
export function equalize(image: Image): FloatImage {
  const src = asFloatImage(image);
  const colour = colourChannels(src, 'equalize');
  const c = src.channels;
  const out = Float32Array.from(src.data);
  for (let ch = 0; ch < colour; ch++) {
    const hist = new Array<number>(256).fill(0);
    for (let p = ch; p < out.length; p += c) hist[level(out[p])]++;
    let last = 255;
    while (last > 0 && hist[last] === 0) last--;
    // step = floor(sum of the non-zero bins but the last / 255)
    let total = 0;
    for (let v = 0; v < last; v++) total += hist[v];
    const step = Math.floor(total / 255);
    if (step === 0) {
      for (let p = ch; p < out.length; p += c) out[p] = level(out[p]) / 255;
      continue;
    }
    const lut = new Array<number>(256);
    let cum = 0;
    lut[0] = 0;
    for (let v = 0; v < 255; v++) {
      cum += hist[v];
      lut[v + 1] = Math.min(255, Math.floor((cum + Math.floor(step / 2)) / step));
    }
    for (let p = ch; p < out.length; p += c) out[p] = lut[level(out[p])] / 255;
  }
  return { ...src, data: out };
}
