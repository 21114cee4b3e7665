import type { FloatImage } from '../dataset';
import type { Interpolation } from '../interpolation';
import { blankImage } from './image-ops';

/** Round half to even (C's `nearbyint`, which `grid_sample(mode='nearest')` uses). */
function nearbyint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Warp `src` by the inverse map `m` = [a, b, c, d, e, f] in torchvision's centred frame
 * (`_gen_affine_grid` + `grid_sample(align_corners=False)`): the output pixel (x, y) reads
 * the source at (a u + b v + c, d u + e v + f) + ((W - 1) / 2, (H - 1) / 2), where
 * (u, v) = (x - (W - 1) / 2, y - (H - 1) / 2). Without `fill` (null), points outside read
 * as 0 (`grid_sample`'s zero padding). With a fill, torchvision's rule exactly: nearest puts
 * `fill` where the point is outside; bilinear blends the zero-padded sample `s` with the
 * in-image weight `m` (the same sample of an all-ones mask) as `s * m + (1 - m) * fill`, so
 * even fill 0 darkens the border pixels (as `RandomAffine`, whose default fill is 0).
 */
export function warpAffine(
  src: FloatImage,
  m: readonly number[],
  interpolation: Interpolation,
  fill: Float32Array | null,
): FloatImage {
  const { height: h, width: w, channels: c, data } = src;
  const out = blankImage(h, w, c);
  const o = out.data;
  // The grid is computed in float32 step by step as torchvision on the CPU does (theta /
  // (size / 2); the batched matrix product u * a, then two fused multiply-adds; grid_sample's
  // (g + 1) * (size / 2) - 0.5), so that nearest sampling picks the same pixels, ties included.
  // (A product of two float32 values is exact in a double, so `f(p + acc)` is a float32 FMA.)
  const f = Math.fround;
  const t = [0, 1, 2].map((k) => f(f(m[k]) / (w * 0.5)));
  const s = [3, 4, 5].map((k) => f(f(m[k]) / (h * 0.5)));
  const base = (n: number, i: number) => {
    const start = f(-n * 0.5 + 0.5);
    const end = f(n * 0.5 - 0.5);
    const step = n === 1 ? 0 : f(f(end - start) / (n - 1));
    return i < n / 2 ? f(start + f(i * step)) : f(end - f((n - 1 - i) * step));
  };
  for (let y = 0; y < h; y++) {
    const v = base(h, y);
    for (let x = 0; x < w; x++) {
      const u = base(w, x);
      const gx = f(f(f(u * t[0]) + v * t[1]) + t[2]);
      const gy = f(f(f(u * s[0]) + v * s[1]) + s[2]);
      const sx = f(f(f(gx + 1) * (w * 0.5)) - 0.5);
      const sy = f(f(f(gy + 1) * (h * 0.5)) - 0.5);
      const dst = (y * w + x) * c;
      if (interpolation === 'bilinear') {
        bilinearMasked(src, sx, sy, fill, o, dst);
        continue;
      }
      const ix = nearbyint(sx);
      const iy = nearbyint(sy);
      if (ix >= 0 && ix < w && iy >= 0 && iy < h) {
        const p = (iy * w + ix) * c;
        for (let ch = 0; ch < c; ch++) o[dst + ch] = data[p + ch];
      } else if (fill) {
        for (let ch = 0; ch < c; ch++) o[dst + ch] = fill[ch];
      }
    }
  }
  return out;
}

/** torchvision's `_apply_grid_transform`, bilinear: `s`, or `s * m + (1 - m) * fill` with a fill. */
function bilinearMasked(
  src: FloatImage,
  x: number,
  y: number,
  fill: Float32Array | null,
  out: Float32Array,
  o: number,
): void {
  const { data, height: h, width: w, channels: c } = src;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const corners = [
    [x0, y0, (1 - fx) * (1 - fy)],
    [x0 + 1, y0, fx * (1 - fy)],
    [x0, y0 + 1, (1 - fx) * fy],
    [x0 + 1, y0 + 1, fx * fy],
  ] as const;
  let m = 0;
  for (let ch = 0; ch < c; ch++) out[o + ch] = 0;
  for (const [cx, cy, wt] of corners) {
    if (cx < 0 || cx >= w || cy < 0 || cy >= h) continue;
    m += wt;
    const p = (cy * w + cx) * c;
    for (let ch = 0; ch < c; ch++) out[o + ch] += wt * data[p + ch];
  }
  if (fill) for (let ch = 0; ch < c; ch++) out[o + ch] = out[o + ch] * m + (1 - m) * fill[ch];
}

/**
 * Nearest-neighbour resize as PyTorch's `F.interpolate(mode='nearest')` (torchvision's tensor
 * `resize` with NEAREST): output index o reads floor(o * in / out).
 */
export function resizeNearest(src: FloatImage, oh: number, ow: number): FloatImage {
  const { height: h, width: w, channels: c, data } = src;
  if (h === oh && w === ow) return src;
  const out = blankImage(oh, ow, c);
  const sy = h / oh;
  const sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const iy = Math.min(Math.floor(y * sy), h - 1);
    for (let x = 0; x < ow; x++) {
      const ix = Math.min(Math.floor(x * sx), w - 1);
      const p = (iy * w + ix) * c;
      const d = (y * ow + x) * c;
      for (let ch = 0; ch < c; ch++) out.data[d + ch] = data[p + ch];
    }
  }
  return out;
}
