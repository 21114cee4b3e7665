import type { AnyLayout, Fans } from '@convkit/backend';
import type { RandomSource } from '@convkit/backend/random';
import type * as tf from '@tensorflow/tfjs-core';

/** Where an initializer gets its fans and its randomness. */
export interface SampleOptions {
  /**
   * Fan-in and fan-out of the layer the parameter belongs to. The caller knows the layer's
   * meaning; for a bias, pass the fans of the weight (PyTorch's bias bound is 1/sqrt(fanIn) of
   * the weight). When absent they are computed from `shape` and `layout`.
   */
  fans?: Fans;
  /** Layout of `shape` used to compute fans (and by orthogonal / dirac). Default 'HWIO'. */
  layout?: AnyLayout;
  /** The random source to draw from. Default `globalRandom()`. */
  random?: RandomSource;
}

/** The element-wise distribution of an i.i.d. initializer for a given shape and fans. */
export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'normal'; mean: number; std: number }
  /** `std` is the standard deviation of the normal BEFORE truncation to [low, high]. */
  | { kind: 'truncatedNormal'; mean: number; std: number; low: number; high: number };

/**
 * An initializer: a pure function of a shape, the fans and a random source.
 *
 * `sample` returns a new Float32Array in row-major order of `shape`; `tensor` wraps the same
 * values in a float32 `tf.Tensor` that the caller owns. `distribution` (i.i.d. initializers
 * only) tells which distribution `sample` draws from, without drawing.
 */
export interface Initializer {
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  sample(shape: readonly number[], options?: SampleOptions): Float32Array;
  tensor(shape: readonly number[], options?: SampleOptions): tf.Tensor;
  distribution?(shape: readonly number[], options?: SampleOptions): Distribution;
  toJSON(): { name: string; config: Record<string, unknown> };
}
