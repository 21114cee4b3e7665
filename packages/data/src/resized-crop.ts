import { globalRandom, type RandomSource } from '@convkit/backend';
import type { FloatImage, Image } from './dataset';
import { asFloatImage } from './internal/image-ops';
import { resizeNearest } from './internal/warp';
import { checkInterpolation, type Interpolation } from './interpolation';
import {
  cropWindow,
  type ImageTransform,
  resizeImage,
  roundHalfEven,
  type Size,
  size2,
} from './transforms';

/** A crop window: top-left corner and size, in pixels. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Crop `box` (zero-padded where it reaches outside the image), then resize it to `size`:
 * torchvision's `F.resized_crop` on tensors with `antialias=False` (bilinear: half-pixel
 * centres, PyTorch's `interpolate(align_corners=False)`; nearest: `interpolate(mode='nearest')`;
 * checked against fixtures). Shape: [H, W, C] -> [size, size, C].
 */
export function resizedCrop(
  image: Image,
  box: CropBox,
  size: Size,
  options: { interpolation?: Interpolation } = {},
): FloatImage {
  const [oh, ow] = size2(size, 'resizedCrop');
  const interpolation = checkInterpolation(options.interpolation ?? 'bilinear', 'resizedCrop');
  const { top, left, height, width } = box;
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1) {
    throw new Error(
      `resizedCrop: box must be integers with height, width >= 1, received ${JSON.stringify(box)}`,
    );
  }
  const src = asFloatImage(image);
  const crop = cropWindow(
    src,
    top,
    left,
    height,
    width,
    'constant',
    new Float32Array(src.channels),
  );
  return interpolation === 'bilinear' ? resizeImage(crop, oh, ow) : resizeNearest(crop, oh, ow);
}

export interface RandomResizedCropOptions {
  /** Output size: `n` or [height, width]. */
  size: Size;
  /** Range of the crop area as a fraction of the image area (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop aspect ratio width / height, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
  /** Default 'bilinear' (torchvision's default); 'nearest' for masks. */
  interpolation?: Interpolation;
}

function checkRanges(scale: readonly number[], ratio: readonly number[]): void {
  if (scale.length !== 2 || !(scale[0] > 0 && scale[1] >= scale[0])) {
    throw new Error(
      `randomResizedCrop: scale must be [min, max] with 0 < min <= max, received [${scale}]`,
    );
  }
  if (ratio.length !== 2 || !(ratio[0] > 0 && ratio[1] >= ratio[0])) {
    throw new Error(
      `randomResizedCrop: ratio must be [min, max] with 0 < min <= max, received [${ratio}]`,
    );
  }
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 tries of an area uniform in
 * `scale` x image area and an aspect ratio log-uniform in `ratio`; w = round(sqrt(area *
 * ratio)), h = round(sqrt(area / ratio)) (half to even, as Python); the first box that fits
 * gets a uniform position. If none fits: the largest centred box whose ratio is clamped into
 * `ratio` (the whole image when its own ratio is inside).
 */
export function randomResizedCropParams(
  height: number,
  width: number,
  options: { scale?: readonly [number, number]; ratio?: readonly [number, number] } = {},
  random: RandomSource = globalRandom(),
): CropBox {
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  checkRanges(scale, ratio);
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * random.uniform(scale[0], scale[1]);
    const aspect = Math.exp(random.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = random.int(0, height - h + 1);
      const left = random.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) {
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    w = roundHalfEven(h * ratio[1]);
  }
  return {
    top: Math.floor((height - h) / 2),
    left: Math.floor((width - w) / 2),
    height: h,
    width: w,
  };
}

/**
 * torchvision's `RandomResizedCrop(size, scale, ratio)`: a random box (see
 * `randomResizedCropParams`) resized to `size` with `resizedCrop`.
 */
export function randomResizedCrop(options: RandomResizedCropOptions): ImageTransform {
  size2(options.size, 'randomResizedCrop');
  checkRanges(options.scale ?? [0.08, 1], options.ratio ?? [3 / 4, 4 / 3]);
  const interpolation = checkInterpolation(
    options.interpolation ?? 'bilinear',
    'randomResizedCrop',
  );
  return (image, random) => {
    const box = randomResizedCropParams(
      image.height,
      image.width,
      options,
      random ?? globalRandom(),
    );
    return resizedCrop(image, box, options.size, { interpolation });
  };
}
