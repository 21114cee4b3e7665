import type { RandomSource } from '@convkit/backend';
import { checkIndex, type Dataset, type FloatImage, type LabeledImage } from './dataset';
import { resolveSeed, streamFor } from './internal/seed';
import { checkShapes, SHAPE_NAMES, type ShapeName, shapeCoverage } from './shapes';

export { SHAPE_NAMES, type ShapeName } from './shapes';

export interface SyntheticShapesOptions {
  /** Number of samples (default 1000). Labels cycle through the shapes, so classes balance. */
  length?: number;
  /** Image side in pixels (default 32). */
  size?: number;
  /** 1 (grey, default) or 3 (random colours). */
  channels?: 1 | 3;
  /** Which shapes, in label order (default all of `SHAPE_NAMES`). */
  shapes?: readonly ShapeName[];
  /** Shape radius as a fraction of the side, drawn uniformly in [min, max] (default [0.22, 0.4]). */
  scale?: readonly [number, number];
  /** Centre offset from the middle, as a fraction of the side, uniform in [-j, j] (default 0.12). */
  positionJitter?: number;
  /** Maximum rotation in degrees, uniform in [-r, r] (default 180: any angle). */
  rotation?: number;
  /** Standard deviation of additive Gaussian pixel noise (default 0.05). */
  noise?: number;
  seed?: number;
  /** Where the seed is drawn from when `seed` is not given (default: the global source). */
  random?: RandomSource;
}

/**
 * A seeded synthetic classification set: one shape per image (circle, square, triangle,
 * cross, star, ring) with random position, size, rotation, colours and noise, anti-aliased by
 * 4x4 supersampling. Sample i depends only on (seed, i), so `get` is random-access and two
 * datasets with the same options are identical. For tests and demos. Values in [0, 1].
 */
export class SyntheticShapesDataset implements Dataset<LabeledImage> {
  readonly length: number;
  readonly size: number;
  readonly channels: 1 | 3;
  readonly classNames: readonly ShapeName[];
  readonly labels: Int32Array;
  readonly seed: number;
  private readonly options: SyntheticShapesOptions;

  constructor(options: SyntheticShapesOptions = {}) {
    this.length = options.length ?? 1000;
    this.size = options.size ?? 32;
    this.channels = options.channels ?? 1;
    this.classNames = options.shapes ?? SHAPE_NAMES;
    checkShapes(this.classNames, 'syntheticShapes');
    if (!Number.isInteger(this.length) || this.length < 0) {
      throw new Error(`syntheticShapes: length must be an integer >= 0, received ${this.length}`);
    }
    if (!Number.isInteger(this.size) || this.size < 4) {
      throw new Error(`syntheticShapes: size must be an integer >= 4, received ${this.size}`);
    }
    if (this.channels !== 1 && this.channels !== 3) {
      throw new Error(`syntheticShapes: channels must be 1 or 3, received ${this.channels}`);
    }
    this.options = options;
    this.seed = resolveSeed(options.seed, options.random);
    this.labels = Int32Array.from({ length: this.length }, (_, i) => i % this.classNames.length);
  }

  get(index: number): LabeledImage {
    checkIndex('SyntheticShapesDataset', index, this.length);
    const label = this.labels[index];
    return { image: this.render(this.classNames[label], streamFor(this.seed, index)), label };
  }

  private render(shape: ShapeName, r: RandomSource): FloatImage {
    const { size: n, channels: c } = this;
    const [s0, s1] = this.options.scale ?? [0.22, 0.4];
    const jitter = this.options.positionJitter ?? 0.12;
    const maxRot = ((this.options.rotation ?? 180) * Math.PI) / 180;
    const noise = this.options.noise ?? 0.05;
    const radius = r.uniform(s0, s1) * n;
    const cx = n / 2 + r.uniform(-jitter, jitter) * n;
    const cy = n / 2 + r.uniform(-jitter, jitter) * n;
    const angle = r.uniform(-maxRot, maxRot);
    const invert = r.next() < 0.5;
    const bg: number[] = [];
    const fg: number[] = [];
    const greyBg = r.uniform(0, 0.35);
    const greyFg = r.uniform(0.65, 1);
    for (let ch = 0; ch < c; ch++) {
      const b = c === 1 ? greyBg : r.uniform(0, 0.4);
      const f = c === 1 ? greyFg : r.uniform(0.6, 1);
      bg.push(invert ? f : b);
      fg.push(invert ? b : f);
    }
    const coverage = shapeCoverage(shape, n, cx, cy, radius, angle);
    const data = new Float32Array(n * n * c);
    for (let p = 0; p < n * n; p++) {
      const a = coverage[p];
      for (let ch = 0; ch < c; ch++) {
        const value = bg[ch] * (1 - a) + fg[ch] * a + (noise > 0 ? r.normal(0, noise) : 0);
        data[p * c + ch] = value < 0 ? 0 : Math.min(value, 1);
      }
    }
    return { data, height: n, width: n, channels: c };
  }
}

/** `new SyntheticShapesDataset(options)`. */
export function syntheticShapesDataset(options?: SyntheticShapesOptions): SyntheticShapesDataset {
  return new SyntheticShapesDataset(options);
}
