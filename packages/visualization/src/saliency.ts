import { globalRandom } from '@convkit/backend';
import type { Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifierInput,
  checkTarget,
  positiveInteger,
  shapeText,
  targetMask,
  targetScore,
} from './internal/checks';
import type { Target } from './target';

export interface SaliencyOptions {
  /** Class index per sample (or one for all); default the predicted class. */
  target?: Target;
}

/** A gradient attribution and its per-pixel map. */
export interface GradientAttribution {
  /** d score / d input, the input's shape `[N, H, W, C]`. */
  gradient: tf.Tensor4D;
  /** max over channels of |gradient| (Simonyan et al. 2014): `[N, H, W]`. */
  map: tf.Tensor3D;
}

/**
 * Vanilla saliency (Simonyan, Vedaldi & Zisserman 2014): the gradient of each sample's target
 * score (the logit, as given by the model) with respect to the input pixels. Run the model in
 * `eval()` mode. Leaves no tensors but the returned ones.
 *
 * Shape: input `[N, H, W, C]` -> gradient `[N, H, W, C]`, map `[N, H, W]`.
 */
export function saliency(
  model: Module,
  input: tf.Tensor,
  options: SaliencyOptions = {},
): GradientAttribution {
  const { numClasses } = checkClassifierInput('saliency', model, input);
  const n = input.shape[0];
  checkTarget('saliency', options.target, n, numClasses);
  return tf.tidy(() => {
    const mask = targetMask(options.target, n, numClasses, () => model.forward(input));
    const gradient = tf.grad((x: tf.Tensor) => targetScore(model.forward(x), mask))(
      input,
    ) as tf.Tensor4D;
    return { gradient, map: tf.max(tf.abs(gradient), -1) as tf.Tensor3D };
  });
}

export interface SmoothGradOptions extends SaliencyOptions {
  /** Noisy copies averaged. Default 25. */
  samples?: number;
  /** Standard deviation of the Gaussian noise, in input units. Default 0.15. */
  noiseStd?: number;
  /**
   * The perturbations themselves, `[samples, N, H, W, C]` (added to the input as given; not
   * scaled by `noiseStd`); default drawn from `globalRandom()` (reproducible with `manualSeed`).
   */
  noise?: tf.Tensor;
}

/**
 * SmoothGrad (Smilkov et al. 2017): the mean of the saliency gradients of `samples` noisy
 * copies `input + noise_s`. Each copy is differentiated on its own, so BatchNorm in train mode
 * would still see the original batch size. Leaves no tensors but the returned ones.
 *
 * Shape: input `[N, H, W, C]` -> gradient `[N, H, W, C]`, map `[N, H, W]`.
 */
export function smoothGrad(
  model: Module,
  input: tf.Tensor,
  options: SmoothGradOptions = {},
): GradientAttribution {
  const fn = 'smoothGrad';
  const { numClasses } = checkClassifierInput(fn, model, input);
  const n = input.shape[0];
  checkTarget(fn, options.target, n, numClasses);
  const samples = positiveInteger(fn, 'samples', options.noise?.shape[0] ?? options.samples ?? 25);
  const noiseStd = options.noiseStd ?? 0.15;
  if (!(noiseStd >= 0)) {
    throw new Error(`${fn}: option 'noiseStd' must be >= 0; received ${noiseStd}`);
  }
  const expected = [samples, ...input.shape];
  if (options.noise && !tf.util.arraysEqual(options.noise.shape, expected)) {
    throw new Error(
      `${fn}: option 'noise' must have shape ${shapeText(expected)} ([samples, ...input shape]); received ${shapeText(options.noise.shape)}`,
    );
  }
  return tf.tidy(() => {
    const mask = targetMask(options.target, n, numClasses, () => model.forward(input));
    const noise = options.noise ?? globalRandom().normalTensor(expected, 0, noiseStd);
    const gradOf = tf.grad((x: tf.Tensor) => targetScore(model.forward(x), mask));
    let sum = tf.zerosLike(input);
    for (let s = 0; s < samples; s++) {
      const next = tf.tidy(() => {
        const noisy = tf.add(input, tf.squeeze(tf.slice(noise, [s], [1]), [0]));
        return tf.add(sum, gradOf(noisy));
      });
      sum.dispose();
      sum = next;
    }
    const gradient = tf.div(sum, samples) as tf.Tensor4D;
    return { gradient, map: tf.max(tf.abs(gradient), -1) as tf.Tensor3D };
  });
}
