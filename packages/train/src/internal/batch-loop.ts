import * as tf from '@tensorflow/tfjs-core';
import type { Metric } from '../metrics';
import { disposeBatch } from './batches';
import { yieldToEventLoop } from './tick';

/** How `batchLoop` walks a data source, and what it does with each batch. */
export interface BatchLoopOptions<R> {
  data: Iterable<unknown> | AsyncIterable<unknown>;
  /** Dispose each batch's tensors after `run` (the loop owns them). */
  owns: boolean;
  signal?: AbortSignal;
  /** Yield to the event loop after every this many batches (default 1). */
  yieldEvery?: number;
  /** Called once when `signal` is aborted, before the loop ends. */
  onAbort?(): void;
  /** Awaited before `run` (callbacks' `onBatchBegin`). */
  before?(index: number): Promise<void>;
  /** The synchronous tensor work on one batch (one `tf.tidy`); the batch is freed after. */
  run(value: unknown, index: number): R;
  /** Awaited with `run`'s result (reads back, callbacks); return `true` to stop the loop. */
  after(result: R, index: number): Promise<boolean | undefined> | boolean | undefined;
}

/**
 * The one batch loop of `fit`, `evaluate` and `predict`: iterate the data (sync or async), stop
 * on an aborted signal, run each batch, free the batches it owns even when `run` throws, and yield
 * to the event loop so that a browser tab stays responsive. Returns the number of batches run.
 */
export async function batchLoop<R>(options: BatchLoopOptions<R>): Promise<number> {
  const yieldEvery = options.yieldEvery ?? 1;
  let index = 0;
  for await (const value of options.data as AsyncIterable<unknown>) {
    if (options.signal?.aborted) {
      if (options.owns) disposeBatch(value);
      options.onAbort?.();
      break;
    }
    let result: R;
    try {
      await options.before?.(index);
      result = options.run(value, index);
    } finally {
      if (options.owns) disposeBatch(value);
    }
    index += 1;
    if (await options.after(result, index - 1)) break;
    if (index % yieldEvery === 0) await yieldToEventLoop();
  }
  return index;
}

/**
 * Running means over the samples of an epoch: the loss, and each metric's summed statistics
 * (metrics reduce their own sums in `result`). A step packs `[loss, ...statistics]` into one
 * tensor so that it reads back once; `add` unpacks it.
 */
export class RunningMeans {
  samples = 0;
  private lossSum = 0;
  private readonly sums: number[][];

  constructor(private readonly metrics: Metric[]) {
    this.sums = metrics.map(() => []);
  }

  /** Add one batch of `n` samples: `values` is `[loss, ...statistics]`, `sizes` each metric's. */
  add(n: number, values: ArrayLike<number>, sizes: number[]): void {
    this.lossSum += values[0] * n;
    this.samples += n;
    let at = 1;
    sizes.forEach((size, i) => {
      const sum = this.sums[i];
      for (let j = 0; j < size; j++) sum[j] = (sum[j] ?? 0) + values[at + j];
      at += size;
    });
  }

  /** Mean loss over the samples so far (NaN before any). */
  get loss(): number {
    return this.samples === 0 ? Number.NaN : this.lossSum / this.samples;
  }

  /** Each metric's result over the samples so far. */
  results(): Record<string, number> {
    return Object.fromEntries(this.metrics.map((m, i) => [m.name, m.result(this.sums[i])]));
  }
}

/** Each metric's statistics of one batch, flat float32, to pack after the loss. */
export function batchStatistics(
  metrics: Metric[],
  prediction: tf.Tensor,
  target: tf.Tensor,
): tf.Tensor[] {
  return metrics.map((m) => tf.cast(tf.reshape(m.update(prediction, target), [-1]), 'float32'));
}
