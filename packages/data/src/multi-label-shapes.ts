import type { RandomSource } from '@convkit/backend';
import { checkIndex, type Dataset, type Image } from './dataset';
import { resolveSeed, streamFor } from './internal/seed';
import {
  checkScene,
  renderScene,
  type SceneOptions,
  SHAPE_NAMES,
  type ShapeName,
  sceneClasses,
} from './shapes';

/** One multi-label sample: an image and its multi-hot target (1 for each class present). */
export interface MultiLabelSample {
  image: Image;
  /** `[C]` float32, 0 or 1 per class. */
  target: Float32Array;
}

export interface MultiLabelShapesOptions {
  /** Number of samples (default 1000). */
  length?: number;
  /** Image side in pixels (default 32). */
  size?: number;
  /** 1 (grey, default) or 3 (random colours). */
  channels?: 1 | 3;
  /** Which shapes, in class order (default all of `SHAPE_NAMES`). */
  shapes?: readonly ShapeName[];
  /** [min, max] distinct shapes per image, uniform (default [1, 3]). */
  shapesPerImage?: readonly [number, number];
  /** Shape radius as a fraction of the side, uniform in [min, max] (default [0.12, 0.22]). */
  scale?: readonly [number, number];
  /** Maximum rotation in degrees (default 180). */
  rotation?: number;
  /** Standard deviation of additive Gaussian pixel noise (default 0.05). */
  noise?: number;
  seed?: number;
  /** Where the seed is drawn from when `seed` is not given (default: the global source). */
  random?: RandomSource;
}

export function sceneOptions(
  o: MultiLabelShapesOptions,
  defaultScale: readonly [number, number],
  what: string,
): SceneOptions {
  const scene: SceneOptions = {
    size: o.size ?? 32,
    channels: o.channels ?? 1,
    shapes: o.shapes ?? SHAPE_NAMES,
    count: o.shapesPerImage ?? [1, 3],
    scale: o.scale ?? defaultScale,
    rotation: o.rotation ?? 180,
    noise: o.noise ?? 0.05,
  };
  checkScene(scene, what);
  return scene;
}

/**
 * A seeded multi-label set: each image holds between `shapesPerImage[0]` and
 * `shapesPerImage[1]` distinct shapes (circle, square, triangle, cross, star, ring) in
 * separate cells of a grid, with random size, position, rotation, colours and noise; the
 * target is which shapes are present, multi-hot `[C]`. Sample i depends only on (seed, i)
 * (random access); `targets` holds every target, `[N * C]` row-major, without rendering.
 */
export class MultiLabelShapesDataset implements Dataset<MultiLabelSample> {
  readonly length: number;
  readonly classNames: readonly ShapeName[];
  readonly numClasses: number;
  /** Every sample's target, `[length, numClasses]` row-major. */
  readonly targets: Float32Array;
  readonly seed: number;
  private readonly scene: SceneOptions;

  constructor(options: MultiLabelShapesOptions = {}) {
    this.length = options.length ?? 1000;
    if (!Number.isInteger(this.length) || this.length < 0) {
      throw new Error(`multiLabelShapes: length must be an integer >= 0, received ${this.length}`);
    }
    this.scene = sceneOptions(options, [0.12, 0.22], 'multiLabelShapes');
    this.classNames = this.scene.shapes;
    this.numClasses = this.classNames.length;
    this.seed = resolveSeed(options.seed, options.random);
    const c = this.numClasses;
    this.targets = new Float32Array(this.length * c);
    for (let i = 0; i < this.length; i++) {
      for (const k of sceneClasses(this.scene, streamFor(this.seed, i)))
        this.targets[i * c + k] = 1;
    }
  }

  get(index: number): MultiLabelSample {
    checkIndex('MultiLabelShapesDataset', index, this.length);
    const { image } = renderScene(this.scene, streamFor(this.seed, index));
    const c = this.numClasses;
    return { image, target: this.targets.slice(index * c, (index + 1) * c) };
  }
}

/** `new MultiLabelShapesDataset(options)`. */
export function multiLabelShapesDataset(
  options?: MultiLabelShapesOptions,
): MultiLabelShapesDataset {
  return new MultiLabelShapesDataset(options);
}
