import { RandomSource } from '@convkit/backend';
import { forwardWithActivations, type Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import { positiveInteger, shapeText } from './internal/checks';
import { blur, FourierBasis, roll, rotate, totalVariation, zoom } from './internal/image-ops';
import { adamLoop, inEvalMode } from './internal/optimize';

/** What to maximize: a channel's mean, one unit, or a class logit (the model's output). */
export type MaximizeObjective =
  | { layer: string; channel: number }
  | { layer: string; unit: number | [number, number, number] }
  | { logit: number };

export interface MaximizeActivationOptions {
  /** The input's shape: `[1, H, W, C]` or `[H, W, C]`. */
  inputShape: number[];
  objective: MaximizeObjective;
  /** Adam steps. Default 256. */
  steps?: number;
  /** Adam's learning rate. Default 0.05. */
  learningRate?: number;
  /** The input range the image is mapped into (a sigmoid of the parameters). Default [0, 1]. */
  range?: [number, number];
  /** Random transforms before each forward pass (Lucid's transformation robustness). */
  transforms?: {
    /** Circular shift by up to this many pixels. Default 0. */
    jitter?: number;
    /** Zoom factors drawn from this list (bilinear, about the centre). */
    scale?: number[];
    /** Rotations in degrees drawn from this list. */
    rotate?: number[];
  };
  /** Weight of total variation. Default 0. */
  tvWeight?: number;
  /** Weight of the mean squared (normalized) image. Default 0. */
  l2Weight?: number;
  /** Blur the pixel parameters every this many steps (Yosinski et al. 2015); 0 never. Default 0. */
  blurEvery?: number;
  /** Sigma of that 3x3 Gaussian blur. Default 0.5. */
  blurSigma?: number;
  /** 'pixel' or Lucid's 'fourier' (decorrelated spectrum). Default 'pixel'. */
  parameterization?: 'pixel' | 'fourier';
  /** The Fourier spectrum's 1 / f^decay scale. Default 1. */
  fourierDecay?: number;
  /** Seed of the start and the transforms. Default 0. */
  seed?: number;
  /**
   * Standard deviation of the starting parameters: default 0.5 for pixels (a sigmoid of them
   * spans about 0.3 to 0.7 of the range, so units behind a ReLU start alive), 0.01 for the
   * Fourier spectrum (Lucid's).
   */
  initStd?: number;
}

export interface MaximizeActivationResult {
  /** The image, in `range`: `[1, H, W, C]`. */
  image: tf.Tensor4D;
  /** The objective (on the transformed image) at every step. */
  objectives: number[];
  /** The loss minimized (-objective + regularizers) at every step. */
  losses: number[];
}

/**
 * Activation maximization (Erhan et al. 2009; Olah, Mordvintsev & Schubert 2017): optimize an
 * image with Adam so that a channel's mean, one unit or a class logit is as large as possible,
 * the image being a sigmoid of pixel or Fourier parameters mapped into `range`, randomly
 * jittered, zoomed and rotated before each forward pass, with total-variation, L2 and blur
 * regularizers. The model runs in eval mode (restored after); its parameters do not change.
 * Leaves no tensors but the returned image. Colour decorrelation (Lucid's ImageNet colour
 * matrix) is not offered.
 *
 * Shape: `inputShape` `[1, H, W, C]` -> image `[1, H, W, C]`.
 */
export async function maximizeActivation(
  model: Module,
  options: MaximizeActivationOptions,
): Promise<MaximizeActivationResult> {
  const fn = 'maximizeActivation';
  const shape = (
    options.inputShape.length === 3 ? [1, ...options.inputShape] : options.inputShape
  ) as [number, number, number, number];
  if (shape.length !== 4 || shape[0] !== 1 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `${fn}: option 'inputShape' must be [1, H, W, C] or [H, W, C]; received ${shapeText(options.inputShape)}`,
    );
  }
  let outputShape: number[];
  try {
    outputShape = model.outputShape(shape);
  } catch (error) {
    throw new Error(
      `${fn}: option 'inputShape' ${shapeText(shape)} does not fit the model: ${(error as Error).message}`,
    );
  }
  const objective = options.objective;
  const layer = 'logit' in objective ? undefined : objective.layer;
  const steps = positiveInteger(fn, 'steps', options.steps ?? 256);
  const [lo, hi] = options.range ?? [0, 1];
  const parameterization = options.parameterization ?? 'pixel';
  if (parameterization !== 'pixel' && parameterization !== 'fourier') {
    throw new Error(
      `${fn}: option 'parameterization' must be 'pixel' or 'fourier'; received '${parameterization}'`,
    );
  }
  // The objective's layer shape, from one pass on zeros, to check the indices before optimizing.
  const targetShape = layer
    ? tf.tidy(() => {
        const probe = tf.zeros(shape);
        return forwardWithActivations(model, probe, [layer]).activations[layer].shape;
      })
    : outputShape;
  const select = objectiveSelector(fn, objective, targetShape);
  const { jitter = 0, scale = [], rotate: angles = [] } = options.transforms ?? {};
  const random = new RandomSource(options.seed ?? 0);
  const pick = (list: number[]) => list[random.int(0, list.length)];
  const [, h, w, c] = shape;

  return inEvalMode(model, async () => {
    const basis =
      parameterization === 'fourier'
        ? new FourierBasis(h, w, c, options.fourierDecay ?? 1)
        : undefined;
    const variableFrom = (initial: tf.Tensor) => {
      const v = tf.variable(initial);
      initial.dispose();
      return v;
    };
    const params = basis
      ? [0, 1].map(() => variableFrom(random.normalTensor([c, h, w], 0, options.initStd ?? 0.01)))
      : [variableFrom(random.normalTensor(shape, 0, options.initStd ?? 0.5))];
    const image = () =>
      tf.tidy(() => {
        const raw = basis
          ? basis.image(
              params[0] as tf.Tensor as tf.Tensor3D,
              params[1] as tf.Tensor as tf.Tensor3D,
            )
          : (params[0] as tf.Tensor as tf.Tensor4D);
        return tf.add(lo, tf.mul(hi - lo, tf.sigmoid(raw))) as tf.Tensor4D;
      });
    try {
      const { losses, extras } = await adamLoop(
        params,
        steps,
        options.learningRate ?? 0.05,
        () => {
          let x = image();
          const normalized = tf.div(tf.sub(x, lo), hi - lo);
          const regularizer = tf.addN([
            tf.mul(totalVariation(normalized as tf.Tensor4D), options.tvWeight ?? 0),
            tf.mul(tf.mean(tf.square(tf.sub(normalized, 0.5))), options.l2Weight ?? 0),
          ]);
          if (jitter) x = roll(x, random.int(-jitter, jitter + 1), random.int(-jitter, jitter + 1));
          if (scale.length) x = zoom(x, pick(scale));
          if (angles.length) x = rotate(x, pick(angles));
          const value = layer
            ? select(forwardWithActivations(model, x, [layer]).activations[layer])
            : select(model.forward(x));
          return { loss: tf.sub(regularizer, value) as tf.Scalar, extra: [value] };
        },
        (i) => {
          const every = options.blurEvery ?? 0;
          if (every > 0 && !basis && (i + 1) % every === 0) {
            const blurred = tf.tidy(() =>
              blur(params[0] as tf.Tensor as tf.Tensor4D, options.blurSigma ?? 0.5),
            );
            params[0].assign(blurred);
            blurred.dispose();
          }
        },
      );
      return { image: image(), objectives: extras.map((e) => e[0]), losses };
    } finally {
      tf.dispose(params);
      basis?.dispose();
    }
  });
}

/** The scalar the objective names, from the layer's (or model's) output; checks its indices. */
function objectiveSelector(
  fn: string,
  objective: MaximizeObjective,
  shape: number[],
): (t: tf.Tensor) => tf.Scalar {
  const channels = shape[shape.length - 1];
  const index = (name: string, value: number, size: number) => {
    if (!Number.isInteger(value) || value < 0 || value >= size) {
      throw new Error(
        `${fn}: option 'objective.${name}' must be in [0, ${size - 1}]; received ${value}`,
      );
    }
  };
  if ('logit' in objective) {
    if (shape.length !== 2) {
      throw new Error(
        `${fn}: objective 'logit' needs a model that outputs [N, classes]; it outputs ${shapeText(shape)}`,
      );
    }
    index('logit', objective.logit, channels);
    return (t) => tf.squeeze(tf.slice(t, [0, objective.logit], [1, 1])) as tf.Scalar;
  }
  if ('channel' in objective) {
    index('channel', objective.channel, channels);
    return (t) =>
      tf.mean(
        tf.slice(
          t,
          [...t.shape.slice(0, -1).map(() => 0), objective.channel],
          [...t.shape.slice(0, -1).map(() => -1), 1],
        ),
      ) as tf.Scalar;
  }
  const unit = typeof objective.unit === 'number' ? [objective.unit] : objective.unit;
  const inner = shape.slice(1);
  if (unit.length !== inner.length) {
    throw new Error(
      `${fn}: option 'objective.unit' must index the layer's output ${shapeText(shape)} without the batch axis (${inner.length} numbers); received ${JSON.stringify(objective.unit)}`,
    );
  }
  for (const [i, u] of unit.entries()) index(`unit[${i}]`, u, inner[i]);
  return (t) => tf.squeeze(tf.slice(t, [0, ...unit], [1, ...unit.map(() => 1)])) as tf.Scalar;
}
