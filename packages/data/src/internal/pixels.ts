import type { Image } from '../dataset';

/**
 * RGBA bytes -> `channels` (1: PIL's 'L' luma, integer-exact; 3: RGB, alpha dropped as PIL's
 * `convert('RGB')`; 4: RGBA unchanged). Returns a uint8 HWC image.
 */
export function fromRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
): Image {
  const pixels = width * height;
  if (channels === 4)
    return { data: new Uint8Array(rgba.subarray(0, pixels * 4)), height, width, channels };
  const out = new Uint8Array(pixels * channels);
  if (channels === 3) {
    for (let p = 0; p < pixels; p++) {
      out[3 * p] = rgba[4 * p];
      out[3 * p + 1] = rgba[4 * p + 1];
      out[3 * p + 2] = rgba[4 * p + 2];
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      // PIL: L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16
      out[p] =
        (rgba[4 * p] * 19595 + rgba[4 * p + 1] * 38470 + rgba[4 * p + 2] * 7471 + 0x8000) >>> 16;
    }
  }
  return { data: out, height, width, channels };
}

export function checkChannels(channels: number, what: string): asserts channels is 1 | 3 | 4 {
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new Error(`${what}: channels must be 1, 3 or 4, received ${channels}`);
  }
}

/** Compare strings by Unicode code point, as Python's `sorted` (torchvision's class order). */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
