import type { Module } from '@convkit/layers';
import { Adam, SGD } from '@convkit/optimizers';
import {
  type Batch,
  type DataSource,
  type FitResult,
  fit,
  type LossFunction,
  type LossName,
  type MetricSpec,
} from '@convkit/train';
import { readSafetensorsFile, saveSafetensorsFile } from '@convkit/weights';
import type { ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { capture } from './internal/capture';
import { moduleAt } from './internal/paths';

/** Encoder outputs of a whole dataset: what the classifier receives, and the targets. */
export interface FeatureCache {
  /** `[N, D]`: the input of `model.info.classifier` for every sample. */
  features: tf.Tensor;
  /** `[N]` (or the targets' shape): the labels, in the same order. */
  labels: tf.Tensor;
}

/**
 * Run the frozen encoder once over `data` (in eval mode, no gradients) and keep, for every
 * sample, the input of the model's classifier (`model.info.classifier`): the fast path for
 * small data, since the head can then be trained for many epochs without the encoder. The
 * caller owns the returned tensors. Batches are disposed unless `data` is an array.
 */
export async function cacheFeatures(
  model: ZooModel,
  data: DataSource<Batch>,
): Promise<FeatureCache> {
  const classifier = moduleAt(model, model.info.classifier, 'cacheFeatures');
  const wasTraining = model.training;
  model.eval();
  const features: tf.Tensor[] = [];
  const labels: tf.Tensor[] = [];
  const owned = !Array.isArray(data);
  try {
    for await (const batch of data as AsyncIterable<Batch>) {
      const captured = capture(
        () => model.forward(batch.x),
        new Map([['head', classifier]]),
        'input',
      );
      const input = captured.get('head');
      if (!input) throw new Error('cacheFeatures: the forward pass never reached the classifier');
      features.push(input);
      labels.push(batch.y.clone());
      if (owned) tf.dispose([batch.x, batch.y]);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (features.length === 0) throw new Error('cacheFeatures: the data has no batches');
    return {
      features: features.length === 1 ? features[0].clone() : tf.concat(features, 0),
      labels: labels.length === 1 ? labels[0].clone() : tf.concat(labels, 0),
    };
  } finally {
    tf.dispose(features);
    tf.dispose(labels);
    model.train(wasTraining);
  }
}

export interface TrainHeadOptions {
  epochs?: number;
  batchSize?: number;
  /** Default 1e-3. */
  lr?: number;
  /** `'adam'` (default) or `'sgd'` (momentum 0.9). */
  optimizer?: 'adam' | 'sgd';
  weightDecay?: number;
  loss?: LossFunction | LossName;
  metrics?: MetricSpec[];
  /** Cached features of validation data. */
  validation?: FeatureCache;
  /** Shuffle each epoch with this seed (default: the order of the cache). */
  seed?: number;
}

/** Batches of the cache in `order`, each made when it is asked for. */
function* batchesOf(cache: FeatureCache, batchSize: number, order: number[]): Generator<Batch> {
  for (let i = 0; i < order.length; i += batchSize) {
    yield tf.tidy(() => {
      const index = tf.tensor1d(order.slice(i, i + batchSize), 'int32');
      return { x: tf.gather(cache.features, index), y: tf.gather(cache.labels, index) };
    });
  }
}

/** A seeded shuffle (mulberry32 + Fisher-Yates), so a run is reproducible. */
function shuffled(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Train a head (e.g. from `createHead`) on cached features with `@convkit/train`'s `fit`; then
 * put it on the model with `resetClassifier(model, numClasses, head)`. The head's input width
 * must be the cache's feature width.
 */
export async function trainHeadOnCache(
  head: Module,
  cache: FeatureCache,
  options: TrainHeadOptions = {},
): Promise<FitResult> {
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 64;
  const n = cache.features.shape[0];
  const width = cache.features.shape[1];
  if (cache.features.rank !== 2 || cache.labels.shape[0] !== n) {
    throw new Error(
      `trainHeadOnCache: expected features [N, D] and labels [N, ...], received [${cache.features.shape}] and [${cache.labels.shape}]`,
    );
  }
  const headWidth = head
    .namedModules()
    .map(([, m]) => m.config as { inFeatures?: number })
    .find((c) => c.inFeatures !== undefined)?.inFeatures;
  if (headWidth !== undefined && headWidth !== width) {
    throw new Error(
      `trainHeadOnCache: the head takes ${headWidth} input features, the cache has ${width}`,
    );
  }
  const variables = head.trainableVariables();
  if (variables.length === 0) throw new Error('trainHeadOnCache: the head has nothing trainable');
  const optimizer =
    options.optimizer === 'sgd'
      ? new SGD(variables, {
          lr: options.lr ?? 1e-3,
          momentum: 0.9,
          weightDecay: options.weightDecay ?? 0,
        })
      : new Adam(variables, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0 });
  const validation = options.validation
    ? [
        ...batchesOf(
          options.validation,
          batchSize,
          Array.from({ length: options.validation.features.shape[0] }, (_, i) => i),
        ),
      ]
    : undefined;
  let epoch = 0;
  const data = {
    length: Math.ceil(n / batchSize),
    *[Symbol.iterator]() {
      const order =
        options.seed === undefined
          ? Array.from({ length: n }, (_, i) => i)
          : shuffled(n, options.seed + epoch);
      epoch++;
      yield* batchesOf(cache, batchSize, order);
    },
  };
  try {
    return await fit(head, {
      data,
      optimizer,
      epochs,
      loss: options.loss,
      metrics: options.metrics,
      validationData: validation,
    });
  } finally {
    optimizer.dispose();
    if (validation) for (const b of validation) tf.dispose([b.x, b.y]);
  }
}

/** Save a feature cache as safetensors (Node; atomic): `features` and `labels`. */
export async function saveFeatureCache(
  path: string,
  cache: FeatureCache,
  metadata: Record<string, string> = {},
): Promise<void> {
  await saveSafetensorsFile(
    path,
    { features: cache.features, labels: cache.labels },
    { ...metadata, format: 'convkit-feature-cache' },
  );
}

/** Load a feature cache written by `saveFeatureCache` (the caller owns the tensors). */
export async function loadFeatureCache(path: string): Promise<FeatureCache> {
  const { tensors } = await readSafetensorsFile(path);
  const { features, labels, ...rest } = tensors;
  if (!features || !labels || Object.keys(rest).length > 0) {
    tf.dispose(Object.values(tensors));
    throw new Error(
      `loadFeatureCache ${path}: expected exactly the tensors "features" and "labels", found ${Object.keys(tensors).join(', ') || 'none'}`,
    );
  }
  return { features, labels };
}
