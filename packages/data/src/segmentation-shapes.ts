import type { RandomSource } from '@convkit/backend';
import { checkIndex, type Dataset } from './dataset';
import { resolveSeed, streamFor } from './internal/seed';
import type { SegmentationSample } from './joint-transforms';
import { sceneOptions } from './multi-label-shapes';
import { renderScene, type ShapeName } from './shapes';

export interface SegmentationShapesOptions {
  /** Number of samples (default 1000). */
  length?: number;
  /** Image side in pixels (default 32). */
  size?: number;
  /** 1 (grey, default) or 3 (random colours). */
  channels?: 1 | 3;
  /** Which shapes; shape k has mask value k + 1 (default all of `SHAPE_NAMES`). */
  shapes?: readonly ShapeName[];
  /** [min, max] distinct shapes per image, uniform (default [1, 3]). */
  shapesPerImage?: readonly [number, number];
  /** Shape radius as a fraction of the side, uniform in [min, max] (default [0.15, 0.25]). */
  scale?: readonly [number, number];
  /** Maximum rotation in degrees (default 180). */
  rotation?: number;
  /** Standard deviation of additive Gaussian pixel noise (default 0.05). */
  noise?: number;
  seed?: number;
  /** Where the seed is drawn from when `seed` is not given (default: the global source). */
  random?: RandomSource;
}

/**
 * A seeded segmentation set: images of several shapes (as `MultiLabelShapesDataset`) with
 * their masks, `[H, W]` class ids: 0 background, k + 1 where shape k covers at least half of
 * the pixel. `numClasses` = shapes + 1; `classNames` starts with 'background'. Sample i
 * depends only on (seed, i).
 */
export class SegmentationShapesDataset implements Dataset<SegmentationSample> {
  readonly length: number;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  readonly seed: number;
  private readonly scene: ReturnType<typeof sceneOptions>;

  constructor(options: SegmentationShapesOptions = {}) {
    this.length = options.length ?? 1000;
    if (!Number.isInteger(this.length) || this.length < 0) {
      throw new Error(
        `segmentationShapes: length must be an integer >= 0, received ${this.length}`,
      );
    }
    this.scene = sceneOptions(options, [0.15, 0.25], 'segmentationShapes');
    this.classNames = ['background', ...this.scene.shapes];
    this.numClasses = this.classNames.length;
    this.seed = resolveSeed(options.seed, options.random);
  }

  get(index: number): SegmentationSample {
    checkIndex('SegmentationShapesDataset', index, this.length);
    const { image, mask } = renderScene(this.scene, streamFor(this.seed, index));
    return { image, mask: { data: mask, height: image.height, width: image.width } };
  }
}

/** `new SegmentationShapesDataset(options)`. */
export function segmentationShapesDataset(
  options?: SegmentationShapesOptions,
): SegmentationShapesDataset {
  return new SegmentationShapesDataset(options);
}
