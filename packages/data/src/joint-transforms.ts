import { globalRandom, type RandomSource } from '@convkit/backend';
import {
  affine,
  normalizeRandomAffine,
  type RandomAffineOptions,
  randomAffineParams,
} from './affine';
import type { FloatImage, Image } from './dataset';
import { asFloatImage } from './internal/image-ops';
import { resizeNearest } from './internal/warp';
import { checkInterpolation, type Interpolation } from './interpolation';
import {
  type RandomResizedCropOptions,
  randomResizedCropParams,
  resizedCrop,
} from './resized-crop';
import { cropWindow, flip, type ImageTransform, resizeImage, type Size, size2 } from './transforms';

/** A segmentation mask: one class id per pixel, row-major `[height, width]`. */
export interface Mask {
  data: Uint8Array | Int32Array;
  height: number;
  width: number;
}

/** One segmentation sample: an image and its mask of the same height and width. */
export interface SegmentationSample {
  image: Image;
  mask: Mask;
}

/**
 * A transform of an (image, mask) pair: geometric ones draw their parameters once and apply
 * them to both (bilinear or as chosen for the image, nearest for the mask, so class ids stay
 * ids). Returns a float image and a mask of the same type as the input's.
 */
export type JointTransform = (
  sample: SegmentationSample,
  random?: RandomSource,
) => { image: FloatImage; mask: Mask };

function checkPair(sample: SegmentationSample, what: string): void {
  const { image, mask } = sample;
  if (image.height !== mask.height || image.width !== mask.width) {
    throw new Error(
      `${what}: image is ${image.height}x${image.width} but its mask is ${mask.height}x${mask.width}`,
    );
  }
  if (mask.data.length !== mask.height * mask.width) {
    throw new Error(
      `${what}: mask has ${mask.data.length} values, expected ${mask.height}x${mask.width}`,
    );
  }
}

/** The mask as a one-channel float image of its raw ids (not scaled), and back. */
const maskImage = (m: Mask): FloatImage => ({
  data: Float32Array.from(m.data),
  height: m.height,
  width: m.width,
  channels: 1,
});
const toMask = (f: FloatImage, like: Mask): Mask => ({
  data: like.data instanceof Int32Array ? Int32Array.from(f.data) : Uint8Array.from(f.data),
  height: f.height,
  width: f.width,
});

/** Chain joint transforms left to right. */
export function jointCompose(transforms: readonly JointTransform[]): JointTransform {
  return (sample, random) => {
    const r = random ?? globalRandom();
    let out = { image: asFloatImage(sample.image), mask: sample.mask };
    for (const t of transforms) out = t(out, r);
    return out;
  };
}

/**
 * Apply an image-only transform (colour jitter, blur, normalize, RandAugment's colour ops...)
 * and keep the mask. The transform must keep the image size.
 */
export function imageOnly(transform: ImageTransform): JointTransform {
  return (sample, random) => {
    const image = transform(sample.image, random ?? globalRandom());
    if (image.height !== sample.mask.height || image.width !== sample.mask.width) {
      throw new Error(
        `imageOnly: the transform changed the image size to ${image.height}x${image.width}; use a joint transform for geometry`,
      );
    }
    return { image, mask: sample.mask };
  };
}

function randomFlip(p: number, horizontal: boolean): JointTransform {
  return (sample, random) => {
    checkPair(sample, horizontal ? 'jointRandomHorizontalFlip' : 'jointRandomVerticalFlip');
    const r = random ?? globalRandom();
    const image = asFloatImage(sample.image);
    if (!(r.next() < p)) return { image, mask: sample.mask };
    return {
      image: flip(image, horizontal),
      mask: toMask(flip(maskImage(sample.mask), horizontal), sample.mask),
    };
  };
}

/** Mirror image and mask left-right together with probability `p` (default 0.5). */
export function jointRandomHorizontalFlip(options: { p?: number } = {}): JointTransform {
  return randomFlip(options.p ?? 0.5, true);
}

/** Mirror image and mask top-bottom together with probability `p` (default 0.5). */
export function jointRandomVerticalFlip(options: { p?: number } = {}): JointTransform {
  return randomFlip(options.p ?? 0.5, false);
}

/**
 * `randomResizedCrop` on both: one box (torchvision's sampling rule), the image resized with
 * `interpolation` (default bilinear), the mask with nearest.
 */
export function jointRandomResizedCrop(options: RandomResizedCropOptions): JointTransform {
  size2(options.size, 'jointRandomResizedCrop');
  const interpolation = checkInterpolation(
    options.interpolation ?? 'bilinear',
    'jointRandomResizedCrop',
  );
  return (sample, random) => {
    checkPair(sample, 'jointRandomResizedCrop');
    const { height, width } = sample.image;
    const box = randomResizedCropParams(height, width, options, random ?? globalRandom());
    return {
      image: resizedCrop(sample.image, box, options.size, { interpolation }),
      mask: toMask(
        resizedCrop(maskImage(sample.mask), box, options.size, { interpolation: 'nearest' }),
        sample.mask,
      ),
    };
  };
}

/**
 * `randomAffine` on both: one set of parameters, the image with `interpolation` (default
 * nearest, as torchvision) and `fill` (default 0), the mask with nearest and `maskFill`
 * (default 0, background; use the loss's ignore index to leave those pixels out).
 */
export function jointRandomAffine(
  options: RandomAffineOptions & { maskFill?: number },
): JointTransform {
  const { maskFill = 0, ...imageOptions } = options;
  checkInterpolation(options.interpolation ?? 'nearest', 'jointRandomAffine');
  normalizeRandomAffine(imageOptions);
  return (sample, random) => {
    checkPair(sample, 'jointRandomAffine');
    const { height, width } = sample.image;
    const p = randomAffineParams(imageOptions, height, width, random ?? globalRandom());
    return {
      image: affine(sample.image, p, { ...imageOptions, fill: imageOptions.fill ?? 0 }),
      mask: toMask(
        affine(maskImage(sample.mask), p, {
          interpolation: 'nearest',
          fill: maskFill,
          center: imageOptions.center,
        }),
        sample.mask,
      ),
    };
  };
}

/**
 * Pad (image with 0, mask with `maskFill`, default 0) and crop the same random window of
 * both (torchvision's `RandomCrop` with constant padding). Shape: -> [size, size].
 */
export function jointRandomCrop(options: {
  size: Size;
  padding?: number;
  maskFill?: number;
}): JointTransform {
  const [h, w] = size2(options.size, 'jointRandomCrop');
  const pad = options.padding ?? 0;
  if (!Number.isInteger(pad) || pad < 0) {
    throw new Error(`jointRandomCrop: padding must be an integer >= 0, received ${pad}`);
  }
  return (sample, random) => {
    checkPair(sample, 'jointRandomCrop');
    const r = random ?? globalRandom();
    const image = asFloatImage(sample.image);
    const ph = image.height + 2 * pad;
    const pw = image.width + 2 * pad;
    if (ph < h || pw < w) {
      throw new Error(
        `jointRandomCrop: crop ${h}x${w} is larger than the padded image ${ph}x${pw}`,
      );
    }
    const top = r.int(0, ph - h + 1) - pad;
    const left = r.int(0, pw - w + 1) - pad;
    const zero = new Float32Array(image.channels);
    const fill = Float32Array.of(options.maskFill ?? 0);
    return {
      image: cropWindow(image, top, left, h, w, 'constant', zero),
      mask: toMask(
        cropWindow(maskImage(sample.mask), top, left, h, w, 'constant', fill),
        sample.mask,
      ),
    };
  };
}

/** Resize both to `size`: the image with `interpolation` (default bilinear), the mask with nearest. */
export function jointResize(
  size: Size,
  options: { interpolation?: Interpolation } = {},
): JointTransform {
  const [oh, ow] = size2(size, 'jointResize');
  const interpolation = checkInterpolation(options.interpolation ?? 'bilinear', 'jointResize');
  return (sample) => {
    checkPair(sample, 'jointResize');
    const image = asFloatImage(sample.image);
    return {
      image:
        interpolation === 'bilinear' ? resizeImage(image, oh, ow) : resizeNearest(image, oh, ow),
      mask: toMask(resizeNearest(maskImage(sample.mask), oh, ow), sample.mask),
    };
  };
}
