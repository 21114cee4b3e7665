import { globalRandom, type RandomSource } from '@convkit/backend';
import { affine } from './affine';
import {
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  adjustSharpness,
  autocontrast,
  equalize,
  posterize,
  solarize,
} from './color';
import type { FloatImage, Image } from './dataset';
import { asFloatImage } from './internal/image-ops';
import { checkInterpolation, type Interpolation } from './interpolation';
import { type ImageTransform, roundHalfEven } from './transforms';

/** The operations of RandAugment and TrivialAugmentWide, in torchvision's order. */
export const AUGMENT_OPS = [
  'Identity',
  'ShearX',
  'ShearY',
  'TranslateX',
  'TranslateY',
  'Rotate',
  'Brightness',
  'Color',
  'Contrast',
  'Sharpness',
  'Posterize',
  'Solarize',
  'AutoContrast',
  'Equalize',
] as const;
export type AugmentOpName = (typeof AUGMENT_OPS)[number];

/** One op of an augmentation space: its magnitude bins (empty: no magnitude) and whether a sign is drawn. */
export interface AugmentOpSpec {
  name: AugmentOpName;
  magnitudes: number[];
  signed: boolean;
}

/** One drawn op: what `applyAugmentOp` applies. */
export interface AugmentOp {
  name: AugmentOpName;
  magnitude: number;
}

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));

/** `8 - round(arange(n) / ((n - 1) / steps))` as an int (torch rounds half to even). */
const posterizeBits = (n: number, steps: number) =>
  Array.from({ length: n }, (_, i) => 8 - roundHalfEven(i / ((n - 1) / steps)));

function checkBins(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(`${what}: numMagnitudeBins must be an integer >= 2, received ${n}`);
  }
}

/**
 * torchvision's augmentation spaces. 'randAugment' (`RandAugment._augmentation_space`):
 * shear 0..0.3, translate 0..150/331 of the side, rotate 0..30 degrees, colour ops 0..0.9,
 * posterize 8..4 bits. 'trivialAugmentWide': shear 0..0.99, translate 0..32 pixels, rotate
 * 0..135 degrees, colour ops 0..0.99, posterize 8..2 bits. Both: solarize 255..0 (in 8-bit
 * units: threshold / 255 on [0, 1] images); Identity, AutoContrast and Equalize take none.
 */
export function augmentationSpace(
  kind: 'randAugment' | 'trivialAugmentWide',
  numMagnitudeBins = 31,
  size: readonly [number, number] = [32, 32],
): AugmentOpSpec[] {
  checkBins(numMagnitudeBins, kind);
  const n = numMagnitudeBins;
  const [h, w] = size;
  const wide = kind === 'trivialAugmentWide';
  const colour = wide ? 0.99 : 0.9;
  const table: Record<AugmentOpName, [number[], boolean]> = {
    Identity: [[], false],
    ShearX: [linspace(0, wide ? 0.99 : 0.3, n), true],
    ShearY: [linspace(0, wide ? 0.99 : 0.3, n), true],
    TranslateX: [linspace(0, wide ? 32 : (150 / 331) * w, n), true],
    TranslateY: [linspace(0, wide ? 32 : (150 / 331) * h, n), true],
    Rotate: [linspace(0, wide ? 135 : 30, n), true],
    Brightness: [linspace(0, colour, n), true],
    Color: [linspace(0, colour, n), true],
    Contrast: [linspace(0, colour, n), true],
    Sharpness: [linspace(0, colour, n), true],
    Posterize: [posterizeBits(n, wide ? 6 : 4), false],
    Solarize: [linspace(255, 0, n), false],
    AutoContrast: [[], false],
    Equalize: [[], false],
  };
  return AUGMENT_OPS.map((name) => ({ name, magnitudes: table[name][0], signed: table[name][1] }));
}

export interface AugmentApplyOptions {
  /** For the geometric ops: 'nearest' (torchvision's default) or 'bilinear'. */
  interpolation?: Interpolation;
  /** Fill of the geometric ops (default: none, outside reads 0, as torchvision's `fill=None`). */
  fill?: number | readonly number[];
}

const degrees = (radians: number) => (radians * 180) / Math.PI;

/**
 * Apply one op with its (signed) magnitude, as torchvision's `autoaugment._apply_op` on
 * float images in [0, 1] (checked against fixtures): ShearX / ShearY shear by atan(m) about
 * the top-left corner; TranslateX / TranslateY by trunc(m) pixels; Rotate by m degrees
 * anti-clockwise; Brightness, Color (saturation), Contrast and Sharpness by factor 1 + m;
 * Posterize keeps m bits; Solarize inverts values >= m / 255.
 */
export function applyAugmentOp(
  image: Image,
  op: AugmentOp,
  options: AugmentApplyOptions = {},
): FloatImage {
  const { name, magnitude: m } = op;
  const geo = {
    interpolation: checkInterpolation(options.interpolation ?? 'nearest', 'applyAugmentOp'),
    fill: options.fill,
  };
  const still = { angle: 0, translate: [0, 0] as const, scale: 1, shear: [0, 0] as const };
  switch (name) {
    case 'Identity':
      return asFloatImage(image);
    case 'ShearX':
      return affine(
        image,
        { ...still, shear: [degrees(Math.atan(m)), 0] },
        { ...geo, center: [0, 0] },
      );
    case 'ShearY':
      return affine(
        image,
        { ...still, shear: [0, degrees(Math.atan(m))] },
        { ...geo, center: [0, 0] },
      );
    case 'TranslateX':
      return affine(image, { ...still, translate: [Math.trunc(m), 0] }, geo);
    case 'TranslateY':
      return affine(image, { ...still, translate: [0, Math.trunc(m)] }, geo);
    case 'Rotate':
      return affine(image, { ...still, angle: -m }, geo);
    case 'Brightness':
      return adjustBrightness(image, 1 + m);
    case 'Color':
      return adjustSaturation(image, 1 + m);
    case 'Contrast':
      return adjustContrast(image, 1 + m);
    case 'Sharpness':
      return adjustSharpness(image, 1 + m);
    case 'Posterize':
      return posterize(image, Math.trunc(m));
    case 'Solarize':
      return solarize(image, m / 255);
    case 'AutoContrast':
      return autocontrast(image);
    case 'Equalize':
      return equalize(image);
    default:
      throw new Error(
        `applyAugmentOp: unknown op '${String(name)}' (known: ${AUGMENT_OPS.join(', ')})`,
      );
  }
}

export interface RandAugmentOptions extends AugmentApplyOptions {
  /** Ops applied in sequence (default 2). */
  numOps?: number;
  /** Magnitude bin index, 0..numMagnitudeBins-1 (default 9). */
  magnitude?: number;
  /** Default 31. */
  numMagnitudeBins?: number;
}

function checkRandAugment(o: RandAugmentOptions) {
  const numOps = o.numOps ?? 2;
  const magnitude = o.magnitude ?? 9;
  const bins = o.numMagnitudeBins ?? 31;
  checkBins(bins, 'randAugment');
  if (!Number.isInteger(numOps) || numOps < 0) {
    throw new Error(`randAugment: numOps must be an integer >= 0, received ${numOps}`);
  }
  if (!Number.isInteger(magnitude) || magnitude < 0 || magnitude >= bins) {
    throw new Error(
      `randAugment: magnitude must be an integer bin index in [0, ${bins}), received ${magnitude}`,
    );
  }
  return { numOps, magnitude, bins };
}

/**
 * Draw RandAugment's ops for an image of `height` x `width`, as torchvision's
 * `RandAugment.forward`: `numOps` times, an op uniformly from the 14, its magnitude at bin
 * `magnitude`, negated with probability 1/2 for signed ops.
 */
export function sampleRandAugment(
  options: RandAugmentOptions,
  height: number,
  width: number,
  random: RandomSource = globalRandom(),
): AugmentOp[] {
  const { numOps, magnitude, bins } = checkRandAugment(options);
  const space = augmentationSpace('randAugment', bins, [height, width]);
  const ops: AugmentOp[] = [];
  for (let k = 0; k < numOps; k++) {
    const spec = space[random.int(0, space.length)];
    let m = spec.magnitudes.length > 0 ? spec.magnitudes[magnitude] : 0;
    if (spec.signed && random.int(0, 2) === 1) m = -m;
    ops.push({ name: spec.name, magnitude: m });
  }
  return ops;
}

/**
 * torchvision's `RandAugment(num_ops=2, magnitude=9, num_magnitude_bins=31)` (Cubuk et al.
 * 2019) for [0, 1] images: see `sampleRandAugment` and `applyAugmentOp`.
 */
export function randAugment(options: RandAugmentOptions = {}): ImageTransform {
  checkRandAugment(options);
  checkInterpolation(options.interpolation ?? 'nearest', 'randAugment');
  return (image, random) => {
    const ops = sampleRandAugment(options, image.height, image.width, random ?? globalRandom());
    let out = asFloatImage(image);
    for (const op of ops) out = applyAugmentOp(out, op, options);
    return out;
  };
}

export interface TrivialAugmentOptions extends AugmentApplyOptions {
  /** Default 31. */
  numMagnitudeBins?: number;
}

/**
 * Draw TrivialAugmentWide's op as torchvision's `TrivialAugmentWide.forward`: an op
 * uniformly from the 14, a magnitude bin uniformly (ops with magnitudes), a sign with
 * probability 1/2 (signed ops).
 */
export function sampleTrivialAugment(
  options: TrivialAugmentOptions = {},
  random: RandomSource = globalRandom(),
): AugmentOp {
  const space = augmentationSpace('trivialAugmentWide', options.numMagnitudeBins ?? 31);
  const spec = space[random.int(0, space.length)];
  let m = spec.magnitudes.length > 0 ? spec.magnitudes[random.int(0, spec.magnitudes.length)] : 0;
  if (spec.signed && random.int(0, 2) === 1) m = -m;
  return { name: spec.name, magnitude: m };
}

/**
 * torchvision's `TrivialAugmentWide(num_magnitude_bins=31)` (Müller & Hutter 2021) for [0, 1]
 * images: one op per image (see `sampleTrivialAugment` and `applyAugmentOp`).
 */
export function trivialAugmentWide(options: TrivialAugmentOptions = {}): ImageTransform {
  checkBins(options.numMagnitudeBins ?? 31, 'trivialAugmentWide');
  checkInterpolation(options.interpolation ?? 'nearest', 'trivialAugmentWide');
  return (image, random) =>
    applyAugmentOp(image, sampleTrivialAugment(options, random ?? globalRandom()), options);
}
