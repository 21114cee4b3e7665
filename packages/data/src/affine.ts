import { globalRandom, type RandomSource } from '@convkit/backend';
import type { FloatImage, Image } from './dataset';
import { asFloatImage, fillValues } from './internal/image-ops';
import { warpAffine } from './internal/warp';
import { checkInterpolation, type Interpolation } from './interpolation';
import type { ImageTransform } from './transforms';
import { roundHalfEven } from './transforms';

/** The parameters of one affine map, as torchvision's `F.affine` takes them. */
export interface AffineParams {
  /** Rotation in degrees, clockwise (torchvision's `affine` convention; `rotate` is anti-clockwise). */
  angle: number;
  /** Post-rotation translation [dx, dy] in pixels. */
  translate: readonly [number, number];
  /** Overall scale (> 0). */
  scale: number;
  /** Shear angles [x, y] in degrees. */
  shear: readonly [number, number];
}

export interface AffineOptions {
  /** 'nearest' (torchvision's default, and what masks need) or 'bilinear'. */
  interpolation?: Interpolation;
  /**
   * Value for pixels from outside the image: one number or one per channel. Without it (as
   * `F.affine`'s default `fill=None`), outside reads as 0 with no blending; with it, bilinear
   * border pixels are blended as torchvision does (see `randomAffine`, default fill 0).
   */
  fill?: number | readonly number[];
  /** Centre of the map in pixel coordinates [x, y] (default: the image centre). */
  center?: readonly [number, number];
}

/**
 * torchvision's `_get_inverse_affine_matrix`: the inverse of T * C * R * S * SHy * SHx * C^-1,
 * as [a, b, c, d, e, f] (row-major 2x3), in a frame centred on the image.
 */
export function inverseAffineMatrix(center: readonly [number, number], p: AffineParams): number[] {
  const rot = (p.angle * Math.PI) / 180;
  const sx = (p.shear[0] * Math.PI) / 180;
  const sy = (p.shear[1] * Math.PI) / 180;
  const [cx, cy] = center;
  const [tx, ty] = p.translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m = [d, -b, 0, -c, a, 0].map((v) => v / p.scale);
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

function checkParams(p: AffineParams): void {
  const finite = [p.angle, p.scale, ...p.translate, ...p.shear].every(Number.isFinite);
  if (!finite || p.translate.length !== 2 || p.shear.length !== 2) {
    throw new Error(
      `affine: expected finite { angle, translate: [dx, dy], scale, shear: [x, y] }, received ${JSON.stringify(p)}`,
    );
  }
  if (!(p.scale > 0)) throw new Error(`affine: scale must be > 0, received ${p.scale}`);
}

/**
 * Rotate (clockwise), scale, shear and translate an image about its centre, keeping its size:
 * torchvision's `F.affine` on tensors (same inverse matrix, same sampling grid; checked
 * against fixtures for nearest and bilinear). `affine(img, { angle: -a, ... })` is `rotate(img, a)`.
 * Shape: [H, W, C] -> [H, W, C].
 */
export function affine(
  image: Image,
  params: AffineParams,
  options: AffineOptions = {},
): FloatImage {
  checkParams(params);
  const src = asFloatImage(image);
  const interpolation = checkInterpolation(options.interpolation ?? 'nearest', 'affine');
  const fill = options.fill === undefined ? null : fillValues(options.fill, src.channels, 'affine');
  const center: [number, number] = options.center
    ? [options.center[0] - src.width * 0.5, options.center[1] - src.height * 0.5]
    : [0, 0];
  return warpAffine(src, inverseAffineMatrix(center, params), interpolation, fill);
}

type Range = readonly [number, number];

export interface RandomAffineOptions extends AffineOptions {
  /** Rotation range in degrees: d for [-d, d], or [min, max]. */
  degrees: number | Range;
  /** Maximum translation as fractions of [width, height]: |dx| <= a * W, |dy| <= b * H. */
  translate?: Range;
  /** Scale range [min, max] (default: no scaling). */
  scale?: Range;
  /** Shear in degrees: s for x in [-s, s]; [min, max] for x; [xmin, xmax, ymin, ymax]. */
  shear?: number | Range | readonly [number, number, number, number];
}

function symmetric(v: number | Range, what: string): Range {
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new Error(`randomAffine: ${what} must be >= 0, received ${v}`);
    return [-v, v];
  }
  if (v.length !== 2 || !(v[1] >= v[0])) {
    throw new Error(`randomAffine: ${what} must be [min, max] with min <= max, received [${v}]`);
  }
  return v;
}

interface NormalizedAffine {
  degrees: Range;
  translate: Range | null;
  scale: Range | null;
  shear: number[] | null;
}

export function normalizeRandomAffine(options: RandomAffineOptions): NormalizedAffine {
  const degrees = symmetric(options.degrees, 'degrees');
  const t = options.translate ?? null;
  if (t && (t.length !== 2 || !t.every((v) => v >= 0 && v <= 1))) {
    throw new Error(`randomAffine: translate must be [a, b] with 0 <= a, b <= 1, received [${t}]`);
  }
  const s = options.scale ?? null;
  if (s && (s.length !== 2 || !(s[0] > 0 && s[1] >= s[0]))) {
    throw new Error(`randomAffine: scale must be [min, max] with 0 < min <= max, received [${s}]`);
  }
  const sh = options.shear;
  let shear: number[] | null = null;
  if (sh !== undefined) {
    if (typeof sh !== 'number' && sh.length === 4) {
      shear = [...symmetric([sh[0], sh[1]], 'shear x'), ...symmetric([sh[2], sh[3]], 'shear y')];
    } else {
      shear = [...symmetric(sh as number | Range, 'shear')];
    }
  }
  return { degrees, translate: t, scale: s, shear };
}

/**
 * Draw the parameters of `randomAffine` for an image of `height` x `width`, in torchvision's
 * `RandomAffine.get_params` order: angle uniform in degrees; dx, dy uniform in
 * [-a W, a W], [-b H, b H] rounded half to even; scale uniform; shear x (and y) uniform.
 */
export function randomAffineParams(
  options: RandomAffineOptions,
  height: number,
  width: number,
  random: RandomSource = globalRandom(),
): AffineParams {
  const o = normalizeRandomAffine(options);
  return sampleAffine(o, height, width, random);
}

function sampleAffine(
  o: NormalizedAffine,
  height: number,
  width: number,
  r: RandomSource,
): AffineParams {
  const angle = r.uniform(o.degrees[0], o.degrees[1]);
  let translate: [number, number] = [0, 0];
  if (o.translate) {
    const mx = o.translate[0] * width;
    const my = o.translate[1] * height;
    translate = [roundHalfEven(r.uniform(-mx, mx)), roundHalfEven(r.uniform(-my, my))];
  }
  const scale = o.scale ? r.uniform(o.scale[0], o.scale[1]) : 1;
  let shear: [number, number] = [0, 0];
  if (o.shear) {
    shear = [r.uniform(o.shear[0], o.shear[1]), 0];
    if (o.shear.length === 4) shear[1] = r.uniform(o.shear[2], o.shear[3]);
  }
  // `+ 0` turns a -0 from roundHalfEven into 0.
  return { angle, translate: [translate[0] + 0, translate[1] + 0], scale, shear };
}

/**
 * torchvision's `RandomAffine(degrees, translate, scale, shear, interpolation, fill, center)`:
 * draws the parameters (see `randomAffineParams`) and applies `affine`. Defaults as
 * torchvision: interpolation 'nearest' (pass 'bilinear' for smoother images), fill 0.
 */
export function randomAffine(options: RandomAffineOptions): ImageTransform {
  const o = normalizeRandomAffine(options);
  checkInterpolation(options.interpolation ?? 'nearest', 'randomAffine');
  return (image, random) => {
    const p = sampleAffine(o, image.height, image.width, random ?? globalRandom());
    return affine(image, p, { ...options, fill: options.fill ?? 0 });
  };
}
