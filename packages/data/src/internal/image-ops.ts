import type { FloatImage, Image } from '../dataset';

/** A float copy of `image` (uint8 scaled by 1/255); float images are copied too. */
export function toFloatImage(image: Image): FloatImage {
  const { data, height, width, channels } = image;
  const out = new Float32Array(data.length);
  if (data instanceof Float32Array) {
    out.set(data);
  } else {
    const s = 1 / 255;
    for (let i = 0; i < data.length; i++) out[i] = data[i] * s;
  }
  return { data: out, height, width, channels };
}

/** `image` itself when it is already float, otherwise a float copy. */
export function asFloatImage(image: Image): FloatImage {
  return image.data instanceof Float32Array ? (image as FloatImage) : toFloatImage(image);
}

export function blankImage(height: number, width: number, channels: number, fill = 0): FloatImage {
  const data = new Float32Array(height * width * channels);
  if (fill !== 0) data.fill(fill);
  return { data, height, width, channels };
}

/** A per-channel fill value: a number for all channels, or one per channel. */
export function fillValues(fill: number | readonly number[], channels: number, what: string) {
  if (typeof fill === 'number') return new Float32Array(channels).fill(fill);
  if (fill.length !== channels) {
    throw new Error(
      `${what}: fill has ${fill.length} values but the image has ${channels} channels`,
    );
  }
  return Float32Array.from(fill);
}

/**
 * Bilinear sample of `src` at continuous pixel-centre coordinates (x, y) (pixel (i, j) has its
 * centre at (j, i)), writing `channels` values at `out[o..]`. Points outside the image take
 * `fill`; neighbours outside the image contribute `fill` too, as torchvision's
 * `rotate(..., fill=...)` on tensors (grid_sample with zero padding, then blended with a mask).
 */
export function sampleBilinear(
  src: FloatImage,
  x: number,
  y: number,
  fill: Float32Array,
  out: Float32Array,
  o: number,
): void {
  const { data, height: h, width: w, channels: c } = src;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const x1 = x0 + 1;
  const y1 = y0 + 1;
  const in00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h;
  const in10 = x1 >= 0 && x1 < w && y0 >= 0 && y0 < h;
  const in01 = x0 >= 0 && x0 < w && y1 >= 0 && y1 < h;
  const in11 = x1 >= 0 && x1 < w && y1 >= 0 && y1 < h;
  const w00 = (1 - fx) * (1 - fy);
  const w10 = fx * (1 - fy);
  const w01 = (1 - fx) * fy;
  const w11 = fx * fy;
  const p00 = (y0 * w + x0) * c;
  const p10 = p00 + c;
  const p01 = p00 + w * c;
  const p11 = p01 + c;
  for (let ch = 0; ch < c; ch++) {
    const f = fill[ch];
    out[o + ch] =
      w00 * (in00 ? data[p00 + ch] : f) +
      w10 * (in10 ? data[p10 + ch] : f) +
      w01 * (in01 ? data[p01 + ch] : f) +
      w11 * (in11 ? data[p11 + ch] : f);
  }
}

/** Grey level of float RGB, as torchvision's tensor `rgb_to_grayscale` (0.2989, not 0.299). */
export const LUMA = [0.2989, 0.587, 0.114] as const;

export function checkFloatImage(image: Image, what: string): void {
  const { data, height, width, channels } = image;
  if (data.length !== height * width * channels) {
    throw new Error(
      `${what}: image data has ${data.length} values, expected ${height}x${width}x${channels}`,
    );
  }
}
