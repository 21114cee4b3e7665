/**
 * Sub-pixel rearrangements of NHWC tensors, after torch.nn.functional.pixel_shuffle and
 * pixel_unshuffle. The channel order is PyTorch's: input channel `c·r² + i·r + j` becomes
 * output channel c at row offset i and column offset j (tfjs's depthToSpace uses another order,
 * `(i·r + j)·C + c`, so it is not used here). Reshapes and one rank-5 transpose each;
 * differentiable.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../module';

function checkFactor(where: string, name: string, factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`${where}: expected ${name} to be a positive integer, received ${factor}`);
  }
}

/** @internal The output shape of a pixel shuffle, or an error naming `where`. */
export function pixelShuffleShape(where: string, input: Shape, upscaleFactor: number): Shape {
  checkFactor(where, 'upscaleFactor', upscaleFactor);
  const r2 = upscaleFactor * upscaleFactor;
  if (input.length !== 4 || input[3] % r2 !== 0) {
    throw new Error(
      `${where}: expected an NHWC input whose channels are divisible by upscaleFactor² = ${r2}, received shape [${input}]`,
    );
  }
  const [n, h, w, c] = input;
  return [n, h * upscaleFactor, w * upscaleFactor, c / r2];
}

/** @internal The output shape of a pixel unshuffle, or an error naming `where`. */
export function pixelUnshuffleShape(where: string, input: Shape, downscaleFactor: number): Shape {
  checkFactor(where, 'downscaleFactor', downscaleFactor);
  const r = downscaleFactor;
  if (input.length !== 4 || input[1] % r !== 0 || input[2] % r !== 0) {
    throw new Error(
      `${where}: expected an NHWC input whose height and width are divisible by downscaleFactor ${r}, received shape [${input}]`,
    );
  }
  const [n, h, w, c] = input;
  return [n, h / r, w / r, c * r * r];
}

/**
 * `[N, H, W, C·r²]` -> `[N, H·r, W·r, C]` (torch.nn.functional.pixel_shuffle on NCHW, here on
 * NHWC with the same channel order).
 */
export function pixelShuffle(x: tf.Tensor, upscaleFactor: number): tf.Tensor {
  const [n, h, w, c] = pixelShuffleShape('pixelShuffle', x.shape, upscaleFactor);
  const r = upscaleFactor;
  return tf.tidy(() => {
    const split = tf.reshape(x, [n * (h / r), w / r, c, r, r]); // [N·H, W, C, i, j]
    const moved = tf.transpose(split, [0, 3, 1, 4, 2]); // [N·H, i, W, j, C]
    return tf.reshape(moved, [n, h, w, c]);
  });
}

/** `[N, H·r, W·r, C]` -> `[N, H, W, C·r²]`, the inverse of `pixelShuffle`. */
export function pixelUnshuffle(x: tf.Tensor, downscaleFactor: number): tf.Tensor {
  const [n, h, w, c] = pixelUnshuffleShape('pixelUnshuffle', x.shape, downscaleFactor);
  const r = downscaleFactor;
  return tf.tidy(() => {
    const split = tf.reshape(x, [n * h, r, w, r, c / (r * r)]); // [N·H, i, W, j, C]
    const moved = tf.transpose(split, [0, 2, 4, 1, 3]); // [N·H, W, C, i, j]
    return tf.reshape(moved, [n, h, w, c]);
  });
}
