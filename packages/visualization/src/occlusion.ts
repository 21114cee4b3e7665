import type { Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkClassifierInput,
  checkTarget,
  positiveInteger,
  positivePair,
  targetMask,
} from './internal/checks';
import type { Target } from './target';

export interface OcclusionOptions {
  /** Class index per sample (or one for all); default the predicted class. */
  target?: Target;
  /** Occluding patch `[h, w]` (all channels). Default 8. */
  window?: number | [number, number];
  /** Step between patches. Default the window. */
  stride?: number | [number, number];
  /** What the patch is filled with. Default 0. */
  value?: number;
  /** Occluded copies of the batch per forward pass. Default 16. */
  positionsPerBatch?: number;
}

/**
 * Occlusion (Zeiler & Fergus 2014): slide a `window` patch filled with `value` over the image
 * (top-left corners 0, stride, ... while the patch fits) and attribute to each pixel the mean,
 * over the patches covering it, of the drop in the target score (score(x) - score(occluded));
 * pixels no patch covers get 0. Leaves no tensors but the returned one.
 *
 * Shape: input `[N, H, W, C]` -> `[N, H, W]`.
 */
export function occlusion(
  model: Module,
  input: tf.Tensor,
  options: OcclusionOptions = {},
): tf.Tensor3D {
  const fn = 'occlusion';
  const { numClasses } = checkClassifierInput(fn, model, input);
  const [n, height, width] = input.shape;
  checkTarget(fn, options.target, n, numClasses);
  const [wh, ww] = positivePair(fn, 'window', options.window ?? 8);
  const [sh, sw] = positivePair(fn, 'stride', options.stride ?? [wh, ww]);
  const perBatch = positiveInteger(fn, 'positionsPerBatch', options.positionsPerBatch ?? 16);
  if (wh > height || ww > width) {
    throw new Error(
      `${fn}: option 'window' must fit the ${height}x${width} input; received [${wh}, ${ww}]`,
    );
  }
  const value = options.value ?? 0;
  const positions: [number, number][] = [];
  for (let i = 0; i + wh <= height; i += sh) {
    for (let j = 0; j + ww <= width; j += sw) positions.push([i, j]);
  }
  const patches = new Float32Array(positions.length * height * width);
  const count = new Float32Array(height * width);
  positions.forEach(([i, j], p) => {
    for (let r = i; r < i + wh; r++) {
      for (let c = j; c < j + ww; c++) {
        patches[p * height * width + r * width + c] = 1;
        count[r * width + c] += 1;
      }
    }
  });
  return tf.tidy(() => {
    const logits = model.forward(input);
    const mask = targetMask(options.target, n, numClasses, () => logits);
    const base = tf.sum(tf.mul(logits, mask), -1); // [N]
    const masks = tf.tensor3d(patches, [positions.length, height, width]);
    const drops: tf.Tensor[] = [];
    for (let start = 0; start < positions.length; start += perBatch) {
      const k = Math.min(perBatch, positions.length - start);
      drops.push(
        tf.tidy(() => {
          const m = tf.reshape(tf.slice(masks, [start], [k]), [k, 1, height, width, 1]);
          const occluded = tf.add(tf.mul(input, tf.sub(1, m)), tf.mul(m, value));
          const flat = tf.reshape(occluded, [k * n, ...input.shape.slice(1)]);
          const scores = tf.sum(tf.mul(model.forward(flat), tf.tile(mask, [k, 1])), -1);
          return tf.sub(base, tf.reshape(scores, [k, n])); // [k, N]
        }),
      );
    }
    const drop = tf.concat(drops, 0); // [P, N]
    const summed = tf.matMul(drop, tf.reshape(masks, [positions.length, height * width]), true);
    const mean = tf.div(summed, tf.maximum(tf.tensor1d(count), 1)); // [N, H * W]
    return tf.reshape(mean, [n, height, width]) as tf.Tensor3D;
  });
}
