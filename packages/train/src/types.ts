import type * as tf from '@tensorflow/tfjs-core';

/** One batch: inputs and targets. A `DataLoader` from `@convkit/data` yields these. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * Training or evaluation data: anything iterable, sync or async, re-iterated once per epoch (an
 * array of batches, a generator factory's result is iterable only once, so prefer objects with
 * `[Symbol.asyncIterator]()` such as a DataLoader). Optional members are used when present:
 * `length` or `numBatches` (batches per epoch, for the progress bar's ETA) and
 * `stateDict` / `loadStateDict` (the position and shuffling state, saved in
 * checkpoints so that a resumed run sees the same order).
 */
export type DataSource<T = Batch> = (Iterable<T> | AsyncIterable<T>) &
  StatefulData & {
    length?: number;
    numBatches?: number;
  };

/**
 * Data whose position / shuffling state can be saved and restored: `stateDict()` /
 * `loadStateDict()` (the `Stateful` protocol of `@convkit/backend`, which the `DataLoader` of
 * `@convkit/data` implements), or the older `state()` / `loadState()`, `getState()` / `setState()`.
 */
export interface StatefulData {
  stateDict?(): unknown;
  loadStateDict?(state: never): void;
  state?(): unknown;
  loadState?(state: never): void;
  getState?(): unknown;
  setState?(state: never): void;
}

/**
 * What a model's forward may return: the logits, or the logits plus auxiliary outputs (as
 * GoogLeNet in training mode), either as `{ logits, aux }` or as an array `[logits, ...aux]`.
 * Metrics, `evaluate` and `predict` use the main output only.
 */
export type ModelOutput = tf.Tensor | tf.Tensor[] | { logits: tf.Tensor; aux?: tf.Tensor[] };

/** What `fit` needs of a model; every convkit `Module` has it. */
export interface TrainableModel {
  forward(x: tf.Tensor): ModelOutput;
  trainableVariables(): tf.Variable[];
  train(mode?: boolean): unknown;
  eval(): unknown;
  /** Train mode flag (restored after `evaluate` / `predict`). */
  training?: boolean;
  stateDict(): Record<string, tf.Tensor>;
  loadStateDict(state: Record<string, tf.Tensor>, options?: { strict?: boolean }): unknown;
  toJSON?(): unknown;
  /** Free the parameters (a model rebuilt by `loadCheckpoint` is the caller's to dispose). */
  dispose?(): void;
}

/**
 * A loss: `(prediction, target) => scalar`, such as `crossEntropy` or `mseLoss` from
 * `@convkit/losses`. Class weights call it with `{ reduction: 'none' }` and weight the per-sample
 * losses, so a loss used with `classWeight` must honour that option.
 */
export type LossFunction = (
  prediction: tf.Tensor,
  target: tf.Tensor,
  options?: { reduction?: 'none' | 'mean' | 'sum' },
) => tf.Tensor;

/** What `fit` needs of an optimizer; every convkit optimizer has it. */
export interface TrainOptimizer {
  step(grads: tf.NamedTensorMap): void;
  readonly paramGroups?: ReadonlyArray<{ lr: number }>;
  stateDict?(): unknown;
  loadStateDict?(state: never): void;
}

/** An LR schedule (any convkit schedule): `step()` once per epoch or per optimizer step. */
export interface Schedule {
  step(): void;
  stateDict?(): unknown;
  loadStateDict?(state: never): void;
}
