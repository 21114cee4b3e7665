import type { RandomSource } from '@convkit/backend';
import type { FloatImage } from './dataset';

// The shapes of the synthetic datasets (classification, multi-label, segmentation): inside
// tests in each shape's own frame (radius 1) and an anti-aliased coverage raster.

export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'cross', 'star', 'ring'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

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

export function checkShapes(shapes: readonly string[], what: string): void {
  for (const s of shapes) {
    if (!Object.hasOwn(INSIDE, s)) {
      throw new Error(`${what}: unknown shape "${s}" (known: ${SHAPE_NAMES.join(', ')})`);
    }
  }
  if (new Set(shapes).size !== shapes.length) {
    throw new Error(`${what}: shapes must be distinct, received [${shapes.join(', ')}]`);
  }
}

/**
 * The fraction of each pixel of an n x n image covered by `shape` centred at (cx, cy) with
 * `radius` pixels, rotated by `angle` radians: 4x4 supersampling, row-major [n * n].
 */
export function shapeCoverage(
  shape: ShapeName,
  n: number,
  cx: number,
  cy: number,
  radius: number,
  angle: number,
): Float32Array {
  const inside = INSIDE[shape];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const out = new Float32Array(n * n);
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
      out[y * n + x] = hits / (SS * SS);
    }
  }
  return out;
}

/** What `renderScene` draws: several distinct shapes on one background. */
export interface SceneOptions {
  size: number;
  channels: 1 | 3;
  shapes: readonly ShapeName[];
  /** [min, max] shapes per image (distinct classes, distinct grid cells). */
  count: readonly [number, number];
  /** Radius as a fraction of the side, uniform in [min, max] (capped at half a grid cell). */
  scale: readonly [number, number];
  /** Maximum rotation in degrees. */
  rotation: number;
  noise: number;
}

/** The class indices (into `shapes`) a scene holds, drawn first from its stream. */
export function sceneClasses(o: SceneOptions, r: RandomSource): number[] {
  const k = r.int(o.count[0], o.count[1] + 1);
  return Array.from(r.permutation(o.shapes.length).subarray(0, k));
}

export function checkScene(o: SceneOptions, what: string): void {
  checkShapes(o.shapes, what);
  const [lo, hi] = o.count;
  if (
    !(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && hi >= lo && hi <= o.shapes.length)
  ) {
    throw new Error(
      `${what}: shapesPerImage must be integers 0 <= min <= max <= ${o.shapes.length} (the number of shapes), received [${o.count}]`,
    );
  }
  if (!(o.scale[0] > 0 && o.scale[1] >= o.scale[0])) {
    throw new Error(`${what}: scale must be [min, max] with 0 < min <= max, received [${o.scale}]`);
  }
  if (!Number.isInteger(o.size) || o.size < 8) {
    throw new Error(`${what}: size must be an integer >= 8, received ${o.size}`);
  }
  if (o.channels !== 1 && o.channels !== 3) {
    throw new Error(`${what}: channels must be 1 or 3, received ${o.channels}`);
  }
}

/**
 * Draw a scene from stream `r`: the classes (`sceneClasses`), then for each a grid cell
 * (a g x g grid, g = ceil(sqrt(max count)), so shapes do not overlap), radius, centre jitter
 * inside the cell and angle; a dark background and a bright colour per shape, anti-aliased
 * (4x4 supersampling), plus Gaussian noise. The mask holds, per pixel, 1 + the class index of
 * the shape covering at least half of it, 0 for background.
 */
export function renderScene(
  o: SceneOptions,
  r: RandomSource,
): { image: FloatImage; classes: number[]; mask: Uint8Array } {
  const { size: n, channels: c } = o;
  const classes = sceneClasses(o, r);
  const g = Math.max(1, Math.ceil(Math.sqrt(o.count[1])));
  const cells = r.permutation(g * g);
  const cell = n / g;
  const bg = Array.from({ length: c }, () => r.uniform(0, 0.35));
  const data = new Float32Array(n * n * c);
  for (let p = 0; p < n * n; p++) for (let ch = 0; ch < c; ch++) data[p * c + ch] = bg[ch];
  const mask = new Uint8Array(n * n);
  const maxRot = (o.rotation * Math.PI) / 180;
  classes.forEach((k, j) => {
    const radius = Math.min(r.uniform(o.scale[0], o.scale[1]) * n, cell / 2);
    const slack = cell / 2 - radius;
    const cx = (cells[j] % g) * cell + cell / 2 + r.uniform(-slack, slack);
    const cy = Math.floor(cells[j] / g) * cell + cell / 2 + r.uniform(-slack, slack);
    const angle = r.uniform(-maxRot, maxRot);
    const fg = Array.from({ length: c }, () => r.uniform(0.6, 1));
    const coverage = shapeCoverage(o.shapes[k], n, cx, cy, radius, angle);
    for (let p = 0; p < n * n; p++) {
      const a = coverage[p];
      if (a === 0) continue;
      for (let ch = 0; ch < c; ch++) data[p * c + ch] = data[p * c + ch] * (1 - a) + fg[ch] * a;
      if (a >= 0.5) mask[p] = k + 1;
    }
  });
  if (o.noise > 0) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i] + r.normal(0, o.noise);
      data[i] = v < 0 ? 0 : Math.min(v, 1);
    }
  }
  return { image: { data, height: n, width: n, channels: c }, classes, mask };
}
