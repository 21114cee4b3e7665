import * as tf from '@tensorflow/tfjs-core';
import { batchLoop } from './internal/batch-loop';
import { checkDataSource, ownsBatches } from './internal/batches';
import { splitOutput } from './internal/outputs';
import type { Batch, DataSource, TrainableModel } from './types';

export interface PredictOptions {
  /** Batch size when `data` is one tensor. Default 256. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Dispose each batch after use (not for a tensor input). Default: true, except for arrays. */
  disposeBatches?: boolean;
}

/**
 * The model's main output for every sample, in eval mode (restored after), concatenated along the
 * batch axis. `data` is one input tensor (split into `batchSize` slices) or an iterable of input
 * tensors or of `{ x }` batches. The caller disposes the result.
 */
export async function predict(
  model: TrainableModel,
  data: tf.Tensor | DataSource<tf.Tensor | Partial<Batch>>,
  options: PredictOptions = {},
): Promise<tf.Tensor> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`predict: expected batchSize to be a positive integer, received ${batchSize}`);
  }
  const isTensor = data instanceof tf.Tensor;
  if (!isTensor) checkDataSource('predict', 'data', data);
  const owns = !isTensor && ownsBatches(data, options.disposeBatches);
  const source = isTensor ? slices(data, batchSize) : (data as AsyncIterable<unknown>);
  const outputs: tf.Tensor[] = [];
  const wasTraining = model.training ?? true;
  model.eval();
  try {
    await batchLoop({
      data: source,
      // The slices of a tensor input are made here, so they are always freed.
      owns: isTensor || owns,
      signal: options.signal,
      run: (value, index) => {
        const x = value instanceof tf.Tensor ? value : (value as Partial<Batch>)?.x;
        if (!(x instanceof tf.Tensor)) {
          throw new Error(`predict: batch ${index} is neither a tensor nor { x: tf.Tensor }`);
        }
        return tf.tidy(() => splitOutput(model.forward(x), 'predict').main);
      },
      after: (output) => {
        outputs.push(output);
        return false;
      },
    });
    if (outputs.length === 0) throw new Error('predict: the data yielded no batches');
    if (outputs.length === 1) return outputs[0];
    const joined = tf.concat(outputs, 0);
    tf.dispose(outputs);
    return joined;
  } catch (error) {
    tf.dispose(outputs);
    throw error;
  } finally {
    model.train(wasTraining);
  }
}

function* slices(x: tf.Tensor, batchSize: number): Generator<tf.Tensor> {
  const n = x.shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    yield tf.slice(x, [start], [size]);
  }
}
