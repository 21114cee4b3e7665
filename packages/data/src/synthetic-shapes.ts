import type { RandomSource } from '@convkit/backend';
import { checkIndex, type Dataset, type FloatImage, type LabeledImage } from './dataset';
import { resolveSeed, streamFor } from './internal/seed';

export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'cross', 'star', 'ring'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

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

type Inside = (u: number, v: number) => boolean;

function polygon(points: readonly [number, number][]): Inside {
  return (u, v) => {
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

const starPoints: [number, number][] = Array.from({ length: 10 }, (_, k) => {
  const r = k % 2 === 0 ? 1 : 0.45;
  const a = -Math.PI / 2 + (k * Math.PI) / 5;
  return [r * Math.cos(a), r * Math.sin(a)];
});
const trianglePoints: [number, number][] = [0, 1, 2].map((k) => {
  const a = -Math.PI / 2 + (k * 2 * Math.PI) / 3;
  return [Math.cos(a), Math.sin(a)];
});

/** Inside tests in the shape's own frame, radius 1. */
const INSIDE: Record<ShapeName, Inside> = {
  circle: (u, v) => u * u + v * v <= 1,
  ring: (u, v) => {
    const r2 = u * u + v * v;
    return r2 <= 1 && r2 >= 0.3;
  },
  square: (u, v) => Math.abs(u) <= 0.78 && Math.abs(v) <= 0.78,
  triangle: polygon(trianglePoints),
  cross: (u, v) =>
    (Math.abs(u) <= 0.3 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 1),
  star: polygon(starPoints),
};

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
    for (const s of this.classNames) {
      if (!INSIDE[s])
        throw new Error(`syntheticShapes: unknown shape "${s}" (known: ${SHAPE_NAMES.join(', ')})`);
    }
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
    const inside = INSIDE[shape];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const data = new Float32Array(n * n * c);
    const SS = 4;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        let hits = 0;
        for (let sy = 0; sy < SS; sy++) {
          for (let sx = 0; sx < SS; sx++) {
            const px = x + (sx + 0.5) / SS - cx;
            const py = y + (sy + 0.5) / SS - cy;
            const u = (cos * px + sin * py) / radius;
            const v = (-sin * px + cos * py) / radius;
            if (inside(u, v)) hits++;
          }
        }
        const a = hits / (SS * SS);
        const o = (y * n + x) * c;
        for (let ch = 0; ch < c; ch++) {
          const value = bg[ch] * (1 - a) + fg[ch] * a + (noise > 0 ? r.normal(0, noise) : 0);
          data[o + ch] = value < 0 ? 0 : Math.min(value, 1);
        }
      }
    }
    return { data, height: n, width: n, channels: c };
  }
}

/** `new SyntheticShapesDataset(options)`. */
export function syntheticShapesDataset(options?: SyntheticShapesOptions): SyntheticShapesDataset {
  return new SyntheticShapesDataset(options);
}
