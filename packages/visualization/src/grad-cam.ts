import { activationGradient, interpolate, type Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifierInput,
  checkTarget,
  shapeText,
  targetMask,
  targetScore,
} from './internal/checks';
import type { Target } from './target';

export interface GradCamOptions {
  /** State-dict path of the module whose output is explained (`layer4`, `features.4`). */
  layer: string;
  /** Class index per sample (or one for all); default the predicted class. */
  target?: Target;
}

/** A class activation map. */
export interface GradCamResult {
  /** Per-channel weights of the activation: `[N, K]`. */
  weights: tf.Tensor2D;
  /** relu(sum_k weights_k A_k) at the layer's resolution: `[N, h, w]`. */
  cam: tf.Tensor3D;
  /** `cam` resized to the input's size, bilinear (PyTorch's `align_corners=False`): `[N, H, W]`. */
  heatmap: tf.Tensor3D;
}

type Weighting = (activation: tf.Tensor4D, gradient: tf.Tensor4D) => tf.Tensor2D;

function classActivationMap(
  fn: string,
  model: Module,
  input: tf.Tensor,
  options: GradCamOptions,
  weighting: Weighting,
): GradCamResult {
  const { numClasses } = checkClassifierInput(fn, model, input);
  if (typeof options?.layer !== 'string') {
    throw new Error(`${fn}: option 'layer' must be a state-dict path such as 'features.3'`);
  }
  const n = input.shape[0];
  checkTarget(fn, options.target, n, numClasses);
  model.getSubmodule(options.layer); // an unknown path throws, listing the valid ones
  return tf.tidy(() => {
    const mask = targetMask(options.target, n, numClasses, () => model.forward(input));
    const { activation, gradient } = activationGradient(model, input, options.layer, (out) =>
      targetScore(out, mask),
    );
    if (activation.rank !== 4) {
      throw new Error(
        `${fn}: option 'layer' must name a module with a spatial output [N, H, W, C]; '${options.layer}' outputs ${shapeText(activation.shape)}`,
      );
    }
    const weights = weighting(activation as tf.Tensor4D, gradient as tf.Tensor4D);
    const [, h, w, k] = activation.shape;
    const weighted = tf.mul(activation, tf.reshape(weights, [n, 1, 1, k]));
    const cam = tf.relu(tf.sum(weighted, -1)) as tf.Tensor3D;
    const heatmap = tf.squeeze(
      interpolate(tf.reshape(cam, [n, h, w, 1]), {
        size: [input.shape[1] as number, input.shape[2] as number],
        mode: 'bilinear',
      }),
      [3],
    ) as tf.Tensor3D;
    return { weights, cam, heatmap };
  });
}

/**
 * Grad-CAM (Selvaraju et al. 2017): the layer's channels weighted by the spatial mean of d
 * score / d activation, summed, through a ReLU. `layer` is a state-dict path whose module
 * outputs `[N, h, w, K]`; its gradient comes from `activationGradient` (@convkit/layers). Run
 * the model in `eval()` mode. Leaves no tensors but the returned ones.
 *
 * Shape: input `[N, H, W, C]` -> weights `[N, K]`, cam `[N, h, w]`, heatmap `[N, H, W]`.
 */
export function gradCam(model: Module, input: tf.Tensor, options: GradCamOptions): GradCamResult {
  return classActivationMap('gradCam', model, input, options, (_a, g) => tf.mean(g, [1, 2]));
}

/**
 * Grad-CAM++ (Chattopadhay et al. 2018) in the closed form used by pytorch-grad-cam: with g the
 * gradient of the score and A the activation, alpha = g^2 / (2 g^2 + sum_ij(A) g^3) (0 where
 * g = 0; 1e-7 added to the denominator) and weights_k = sum_ij(alpha relu(g)).
 *
 * Shape: input `[N, H, W, C]` -> weights `[N, K]`, cam `[N, h, w]`, heatmap `[N, H, W]`.
 */
export function gradCamPlusPlus(
  model: Module,
  input: tf.Tensor,
  options: GradCamOptions,
): GradCamResult {
  return classActivationMap('gradCamPlusPlus', model, input, options, (a, g) => {
    const g2 = tf.square(g);
    const g3 = tf.mul(g2, g);
    const sumA = tf.sum(a, [1, 2], true);
    const alpha = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), 1e-7));
    const kept = tf.where(tf.notEqual(g, 0), alpha, tf.zerosLike(alpha));
    return tf.sum(tf.mul(kept, tf.relu(g)), [1, 2]);
  });
}
