import * as tf from '@tensorflow/tfjs-core';

/**
 * A metric that streams over batches without reading predictions back: `update` returns a
 * small 1-D tensor of sufficient statistics for one batch (read together with the loss, once per
 * step), the statistics are summed over the epoch, and `result` turns the sums into the value.
 */
export interface Metric {
  readonly name: string;
  /** Statistics of one batch, a 1-D float tensor; runs inside `tf.tidy`. Shape: any -> [k]. */
  update(prediction: tf.Tensor, target: tf.Tensor): tf.Tensor;
  /** The metric from the statistics summed over batches. */
  result(totals: readonly number[]): number;
}

/** A metric, or the name of a built-in one: `'accuracy'`, `'top5Accuracy'` (any k). */
export type MetricSpec = Metric | 'accuracy' | `top${number}Accuracy`;

/** Class labels from scores `[..., C]`, or the target itself when it holds one-hot / probabilities. */
function labelsOf(
  prediction: tf.Tensor,
  target: tf.Tensor,
): { predicted: tf.Tensor; actual: tf.Tensor } {
  const predicted = tf.argMax(prediction, -1);
  const actual = target.rank === prediction.rank ? tf.argMax(target, -1) : tf.cast(target, 'int32');
  return { predicted, actual };
}

/**
 * Fraction of correct argmax predictions (as `accuracy` in `@convkit/losses`, streamed).
 * Targets are class indices `[N, ...]`, or one-hot / probabilities of the prediction's shape.
 */
export function accuracyMetric(name = 'accuracy'): Metric {
  return {
    name,
    update(prediction, target) {
      const { predicted, actual } = labelsOf(prediction, target);
      const correct = tf.sum(tf.cast(tf.equal(predicted, actual), 'float32'));
      return tf.stack([correct, tf.scalar(actual.size)]);
    },
    result: ([correct, count]) => (count === 0 ? Number.NaN : correct / count),
  };
}

/** Fraction of samples whose target is among the k highest scores. Shape: [N, C], target [N]. */
export function topKAccuracyMetric(k: number, name = `top${k}Accuracy`): Metric {
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(`topKAccuracyMetric: expected k to be a positive integer, received ${k}`);
  }
  return {
    name,
    update(prediction, target) {
      const classes = prediction.shape[prediction.rank - 1];
      const flat = tf.reshape(prediction, [-1, classes]);
      const actual =
        target.rank === prediction.rank ? tf.argMax(target, -1) : tf.cast(target, 'int32');
      const targetScore = tf.sum(
        tf.mul(flat, tf.oneHot(tf.reshape(actual, [-1]), classes)),
        -1,
        true,
      );
      // Rank of the target: how many classes score strictly higher (ties favour the target).
      const above = tf.sum(tf.cast(tf.greater(flat, targetScore), 'float32'), -1);
      const hits = tf.sum(tf.cast(tf.less(above, Math.min(k, classes)), 'float32'));
      return tf.stack([hits, tf.scalar(actual.size)]);
    },
    result: ([hits, count]) => (count === 0 ? Number.NaN : hits / count),
  };
}

/**
 * The batch-size-weighted mean of any `(prediction, target) => scalar` function over an epoch,
 * for example `meanMetric('mae', (p, t) => l1Loss(p, t))`.
 */
export function meanMetric(
  name: string,
  fn: (prediction: tf.Tensor, target: tf.Tensor) => tf.Tensor,
): Metric {
  return {
    name,
    update(prediction, target) {
      const n = prediction.shape[0] ?? 1;
      return tf.stack([tf.mul(tf.reshape(fn(prediction, target), []), n), tf.scalar(n)]);
    },
    result: ([sum, count]) => (count === 0 ? Number.NaN : sum / count),
  };
}

/** Metric objects from specs; throws on unknown names and duplicates. */
export function resolveMetrics(specs: readonly MetricSpec[] = []): Metric[] {
  const metrics = specs.map((spec) => {
    if (typeof spec !== 'string') {
      if (spec == null || typeof spec.update !== 'function' || typeof spec.result !== 'function') {
        throw new Error(
          `metrics: expected 'accuracy', 'top<k>Accuracy' or a Metric { name, update, result }, received ${String(spec)}`,
        );
      }
      return spec;
    }
    if (spec === 'accuracy') return accuracyMetric();
    const topK = /^top(\d+)Accuracy$/.exec(spec);
    if (topK) return topKAccuracyMetric(Number(topK[1]));
    throw new Error(
      `metrics: unknown metric '${spec}'; expected 'accuracy', 'top<k>Accuracy' (e.g. 'top5Accuracy') or a Metric object`,
    );
  });
  const seen = new Set<string>();
  for (const m of metrics) {
    if (seen.has(m.name)) throw new Error(`metrics: two metrics are named '${m.name}'`);
    if (m.name === 'loss' || m.name.startsWith('val_')) {
      throw new Error(`metrics: '${m.name}' is reserved; give the metric another name`);
    }
    seen.add(m.name);
  }
  return metrics;
}
