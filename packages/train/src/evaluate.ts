import * as tf from '@tensorflow/tfjs-core';
import {
  batchCount,
  batchOf,
  checkDataSource,
  disposeBatch,
  ownsBatches,
} from './internal/batches';
import { batchLoss, resolveLoss } from './internal/loss';
import { splitOutput } from './internal/outputs';
import { yieldToEventLoop } from './internal/tick';
import type { LossName } from './loss-name';
import { type MetricSpec, resolveMetrics } from './metrics';
import type { Batch, DataSource, LossFunction, TrainableModel } from './types';

export interface EvaluateOptions {
  /** Default `'crossEntropy'`. */
  loss?: LossFunction | LossName;
  metrics?: MetricSpec[];
  /** Stop early (the result covers the batches seen). */
  signal?: AbortSignal;
  /** Dispose each batch after use. Default: true, except for arrays of batches. */
  disposeBatches?: boolean;
  /** Called after each batch (for progress displays). */
  onBatch?: (batch: number, batches: number | undefined) => void;
}

export interface EvaluateResult {
  /** Mean loss over samples (main output only). */
  loss: number;
  metrics: Record<string, number>;
  samples: number;
  batches: number;
}

/**
 * The mean loss and metrics of `model` over `data`, in eval mode (the mode is restored after).
 * One tidy per batch; one asynchronous read per batch; leaks nothing.
 */
export async function evaluate(
  model: TrainableModel,
  data: DataSource<Batch>,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  checkDataSource('evaluate', 'data', data);
  const lossFn = resolveLoss(options.loss);
  const metrics = resolveMetrics(options.metrics);
  const owns = ownsBatches(data, options.disposeBatches);
  const total = batchCount(data);
  const wasTraining = model.training ?? true;
  model.eval();
  let lossSum = 0;
  let samples = 0;
  let batches = 0;
  const sums: number[][] = metrics.map(() => []);
  try {
    for await (const value of data as AsyncIterable<Batch>) {
      if (options.signal?.aborted) {
        if (owns) disposeBatch(value);
        break;
      }
      let packed: tf.Tensor;
      let sizes: number[];
      let n: number;
      try {
        const { x, y } = batchOf('evaluate', value, batches);
        n = x.shape[0];
        ({ packed, sizes } = evalStep(model, x, y, lossFn, metrics));
      } finally {
        if (owns) disposeBatch(value);
      }
      const values = await packed.data();
      packed.dispose();
      lossSum += values[0] * n;
      accumulate(sums, sizes, values);
      samples += n;
      batches += 1;
      options.onBatch?.(batches, total);
      await yieldToEventLoop();
    }
  } finally {
    model.train(wasTraining);
  }
  return {
    loss: samples === 0 ? Number.NaN : lossSum / samples,
    metrics: Object.fromEntries(metrics.map((m, i) => [m.name, m.result(sums[i])])),
    samples,
    batches,
  };
}

function evalStep(
  model: TrainableModel,
  x: tf.Tensor,
  y: tf.Tensor,
  lossFn: LossFunction,
  metrics: ReturnType<typeof resolveMetrics>,
): { packed: tf.Tensor; sizes: number[] } {
  const sizes: number[] = [];
  const packed = tf.tidy(() => {
    const { main } = splitOutput(model.forward(x), 'evaluate');
    const { loss } = batchLoss(lossFn, main, y, null);
    const stats = metrics.map((m) => tf.cast(tf.reshape(m.update(main, y), [-1]), 'float32'));
    for (const s of stats) sizes.push(s.size);
    return tf.concat([tf.reshape(loss, [1]), ...stats]);
  });
  return { packed, sizes };
}

/** Add the metric statistics packed after the loss (at offset 1) into `sums`. */
export function accumulate(sums: number[][], sizes: number[], values: ArrayLike<number>): void {
  let at = 1;
  sizes.forEach((size, i) => {
    for (let j = 0; j < size; j++) sums[i][j] = (sums[i][j] ?? 0) + values[at + j];
    at += size;
  });
}
