import * as tf from '@tensorflow/tfjs-core';
import { batchLoop, batchStatistics, RunningMeans } from './internal/batch-loop';
import { batchCount, batchOf, checkDataSource, ownsBatches } from './internal/batches';
import { batchLoss, resolveLoss } from './internal/loss';
import { splitOutput } from './internal/outputs';
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
  const total = batchCount(data);
  const means = new RunningMeans(metrics);
  const wasTraining = model.training ?? true;
  model.eval();
  try {
    const batches = await batchLoop({
      data,
      owns: ownsBatches(data, options.disposeBatches),
      signal: options.signal,
      run: (value, index) => {
        const { x, y } = batchOf('evaluate', value, index);
        return { n: x.shape[0], ...evalStep(model, x, y, lossFn, metrics) };
      },
      after: async ({ n, packed, sizes }, index) => {
        const values = await packed.data();
        packed.dispose();
        means.add(n, values, sizes);
        options.onBatch?.(index + 1, total);
        return false;
      },
    });
    return { loss: means.loss, metrics: means.results(), samples: means.samples, batches };
  } finally {
    model.train(wasTraining);
  }
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
    const stats = batchStatistics(metrics, main, y);
    for (const s of stats) sizes.push(s.size);
    return tf.concat([tf.reshape(loss, [1]), ...stats]);
  });
  return { packed, sizes };
}
