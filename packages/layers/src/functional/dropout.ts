import { globalRandom, type RandomSource } from '@convkit/backend/random';
import * as tf from '@tensorflow/tfjs-core';

/** Throw, naming `where`, unless 0 <= p <= 1 (PyTorch's check). */
export function checkDropoutProbability(where: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new Error(`${where}: expected a dropout probability p in [0, 1], received ${p}`);
  }
}

/**
 * Zero each element with probability `p` and scale the kept ones by 1 / (1 - p) (inverted
 * dropout, as torch.nn.functional.dropout); the identity when `training` is false or p is 0.
 *
 * The mask is `maskShape` (default: the input's shape; size-1 axes broadcast, so
 * `[N, 1, 1, C]` drops whole channels) drawn from `random` (default `globalRandom()`), so
 * `manualSeed` reproduces it on every backend. It is a constant for autograd.
 */
export function dropout(
  x: tf.Tensor,
  p = 0.5,
  training = true,
  { maskShape, random }: { maskShape?: number[]; random?: RandomSource | undefined } = {},
): tf.Tensor {
  checkDropoutProbability('dropout', p);
  if (!training || p === 0) return tf.clone(x);
  return tf.tidy(() => {
    if (p === 1) return tf.mul(x, tf.zerosLike(x));
    const keep = (random ?? globalRandom()).bernoulliTensor(maskShape ?? x.shape, 1 - p);
    return tf.mul(x, tf.div(keep, 1 - p));
  });
}

/**
 * Channel dropout on NHWC input (torch.nn.functional.dropout2d): every `[H, W]` plane of a
 * sample's channel is zeroed together, with mask shape `[N, 1, 1, C]`.
 */
export function dropout2d(
  x: tf.Tensor,
  p = 0.5,
  training = true,
  { random }: { random?: RandomSource } = {},
): tf.Tensor {
  if (x.rank !== 4) {
    throw new Error(`dropout2d: expected a rank-4 NHWC input, received shape [${x.shape}]`);
  }
  const [n, , , c] = x.shape as number[];
  return dropout(x, p, training, { maskShape: [n, 1, 1, c], random });
}

/**
 * Channel dropout on `[N, L, C]` (or unbatched `[L, C]`) input, channels last
 * (torch.nn.functional.dropout1d on `[N, C, L]`): every channel of a sample is zeroed along
 * the whole sequence together, with mask shape `[N, 1, C]` (`[1, C]` unbatched).
 */
export function dropout1d(
  x: tf.Tensor,
  p = 0.5,
  training = true,
  { random }: { random?: RandomSource } = {},
): tf.Tensor {
  if (x.rank !== 3 && x.rank !== 2) {
    throw new Error(
      `dropout1d: expected a rank-3 [N, L, C] or rank-2 [L, C] input, received shape [${x.shape}]`,
    );
  }
  const c = x.shape[x.rank - 1];
  const maskShape = x.rank === 3 ? [x.shape[0], 1, c] : [1, c];
  return dropout(x, p, training, { maskShape, random });
}
