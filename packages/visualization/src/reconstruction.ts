import { RandomSource } from '@convkit/backend';
import { forwardWithActivations, type Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import { checkImageInput, positiveInteger, shapeText } from './internal/checks';
import { rangePenalty, roll, totalVariation } from './internal/image-ops';
import { adamLoop, inEvalMode } from './internal/optimize';

export interface ReconstructOptions {
  /** State-dict path of the layer whose features are matched (`features.3`). */
  layer: string;
  /** Adam steps. Default 200. */
  steps?: number;
  /** Adam's learning rate. Default 0.05. */
  learningRate?: number;
  /** Weight of the total-variation regularizer (mean squared neighbour difference). Default 0.05. */
  tvWeight?: number;
  /** The valid input range `[lo, hi]` (normalized units); pixels outside it are penalized. */
  range?: [number, number];
  /** Weight of the range regularizer. Default 1. */
  rangeWeight?: number;
  /** Random circular shift of up to this many pixels before each forward pass. Default 1. */
  jitter?: number;
  /** Seed of the starting noise and the jitter. Default 0. */
  seed?: number;
  /** Standard deviation of the starting noise, around the range's centre. Default 0.1 of the range. */
  noiseStd?: number;
}

export interface ReconstructionResult {
  /** The reconstructed input, `[1, H, W, C]`. */
  image: tf.Tensor4D;
  /** Total loss at every step. */
  losses: number[];
  /** The feature term alone, ||phi(x) - phi(x0)||^2 / ||phi(x0)||^2, at every step. */
  featureLosses: number[];
}

/**
 * Feature inversion (Mahendran & Vedaldi 2015): start from noise and optimize an input with
 * Adam so that its features at `layer` match those of `target`, minimizing
 * ||phi(x) - phi(x0)||^2 / ||phi(x0)||^2 + tvWeight TV(x) + rangeWeight R(x), x and the target
 * shifted by the same random jitter (circular shift) before each forward pass. The model runs in eval mode (restored after) and
 * its parameters do not change. Leaves no tensors but the returned image.
 *
 * Shape: target `[1, H, W, C]` -> image `[1, H, W, C]`.
 */
export async function reconstruct(
  model: Module,
  target: tf.Tensor,
  options: ReconstructOptions,
): Promise<ReconstructionResult> {
  const fn = 'reconstruct';
  checkImageInput(fn, model, target);
  if (target.shape[0] !== 1) {
    throw new Error(
      `${fn}: argument 'target' must be one image [1, H, W, C]; received ${shapeText(target.shape)}`,
    );
  }
  model.getSubmodule(options.layer);
  const steps = positiveInteger(fn, 'steps', options.steps ?? 200);
  const [lo, hi] = options.range ?? [0, 1];
  if (!(hi > lo))
    throw new Error(`${fn}: option 'range' must be [lo, hi] with lo < hi; received [${lo}, ${hi}]`);
  const tvWeight = options.tvWeight ?? 0.05;
  const rangeWeight = options.rangeWeight ?? 1;
  const jitter = options.jitter ?? 1;
  const random = new RandomSource(options.seed ?? 0);
  const shape = target.shape as [number, number, number, number];
  return inEvalMode(model, async () => {
    // The target's features for every shift, computed once each: x and the target are shifted
    // alike, so the features are compared in the same frame at any stride.
    const goals = new Map<string, { features: tf.Tensor; norm: tf.Scalar }>();
    const goalFor = (dy: number, dx: number) => {
      const key = `${dy},${dx}`;
      let goal = goals.get(key);
      if (!goal) {
        goal = tf.tidy(() => {
          const shifted = roll(target as tf.Tensor4D, dy, dx);
          const features = forwardWithActivations(model, shifted, [options.layer]).activations[
            options.layer
          ];
          return { features, norm: tf.sum(tf.square(features)) as tf.Scalar };
        });
        tf.keep(goal.features);
        tf.keep(goal.norm);
        goals.set(key, goal);
      }
      return goal;
    };
    const start = random.normalTensor(shape, (lo + hi) / 2, options.noiseStd ?? 0.1 * (hi - lo));
    const x = tf.variable(start, true);
    start.dispose();
    try {
      const { losses, extras } = await adamLoop([x], steps, options.learningRate ?? 0.05, () => {
        const dy = jitter ? random.int(-jitter, jitter + 1) : 0;
        const dx = jitter ? random.int(-jitter, jitter + 1) : 0;
        const goal = goalFor(dy, dx);
        const shifted = roll(x as tf.Tensor as tf.Tensor4D, dy, dx);
        const feats = forwardWithActivations(model, shifted, [options.layer]).activations[
          options.layer
        ];
        const featureLoss = tf.div(
          tf.sum(tf.square(tf.sub(feats, goal.features))),
          goal.norm,
        ) as tf.Scalar;
        const loss = tf.addN([
          featureLoss,
          tf.mul(totalVariation(x as tf.Tensor as tf.Tensor4D), tvWeight),
          tf.mul(rangePenalty(x, lo, hi), rangeWeight),
        ]) as tf.Scalar;
        return { loss, extra: [featureLoss] };
      });
      const image = tf.clone(x) as tf.Tensor4D;
      return { image, losses, featureLosses: extras.map((e) => e[0]) };
    } finally {
      x.dispose();
      for (const g of goals.values()) tf.dispose([g.features, g.norm]);
    }
  });
}
