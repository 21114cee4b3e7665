import { globalRandom } from '@convkit/backend';
import type { FloatImage, Image } from './dataset';
import { asFloatImage, blankImage } from './internal/image-ops';
import { type ImageTransform, padIndex } from './transforms';

type Pair = number | readonly [number, number];

function kernelSizes(kernelSize: Pair, what: string): [number, number] {
  const [kx, ky] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
  if (![kx, ky].every((k) => Number.isInteger(k) && k > 0 && k % 2 === 1)) {
    throw new Error(
      `${what}: kernelSize must be odd positive integers (n or [x, y]), received ${kernelSize}`,
    );
  }
  return [kx, ky];
}

/** torchvision's `_get_gaussian_kernel1d`: exp(-x^2 / (2 sigma^2)) at x = -(k-1)/2..(k-1)/2, normalized. */
function kernel1d(size: number, sigma: number): Float64Array {
  const half = (size - 1) / 2;
  const k = Float64Array.from({ length: size }, (_, i) =>
    Math.exp(-0.5 * ((i - half) / sigma) ** 2),
  );
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** One separable pass along x (dx = 1) or y (dx = 0), reflect padding. */
function pass(src: FloatImage, k: Float64Array, alongX: boolean): FloatImage {
  const { height: h, width: w, channels: c, data } = src;
  const out = blankImage(h, w, c);
  const half = (k.length - 1) / 2;
  const n = alongX ? w : h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = alongX ? x : y;
      const o = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) {
          const q = padIndex(at + t - half, n, 'reflect');
          const p = alongX ? (y * w + q) * c : (q * w + x) * c;
          s += k[t] * data[p + ch];
        }
        out.data[o + ch] = s;
      }
    }
  }
  return out;
}

/**
 * Gaussian blur with a `kernelSize` (odd; n or [x, y]) kernel of standard deviation `sigma`
 * (n or [x, y]), reflect padding: torchvision's `F.gaussian_blur` on tensors (checked against
 * fixtures). Separable: one pass per axis. Shape: [H, W, C] -> [H, W, C].
 */
export function gaussianBlur(image: Image, kernelSize: Pair, sigma: Pair): FloatImage {
  const [kx, ky] = kernelSizes(kernelSize, 'gaussianBlur');
  const [sx, sy] = typeof sigma === 'number' ? [sigma, sigma] : sigma;
  if (!(sx > 0 && sy > 0)) throw new Error(`gaussianBlur: sigma must be > 0, received ${sigma}`);
  const src = asFloatImage(image);
  return pass(pass(src, kernel1d(kx, sx), true), kernel1d(ky, sy), false);
}

/**
 * torchvision's `GaussianBlur(kernel_size, sigma=(0.1, 2.0))`: each image is blurred with a
 * sigma drawn uniformly from the range (the same sigma on both axes), or a fixed sigma.
 */
export function randomGaussianBlur(options: {
  kernelSize: Pair;
  sigma?: number | readonly [number, number];
}): ImageTransform {
  const kernelSize = kernelSizes(options.kernelSize, 'randomGaussianBlur');
  const s = options.sigma ?? [0.1, 2];
  const [lo, hi] = typeof s === 'number' ? [s, s] : s;
  if (!(lo > 0 && hi >= lo)) {
    throw new Error(
      `randomGaussianBlur: sigma must be > 0 or [min, max] with 0 < min <= max, received ${s}`,
    );
  }
  return (image, random) => {
    const sigma = lo === hi ? lo : (random ?? globalRandom()).uniform(lo, hi);
    return gaussianBlur(image, kernelSize, sigma);
  };
}
