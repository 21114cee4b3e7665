import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '@convkit/backend';
import { Identity, Linear, summary } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import { cifarResnet20, lenet5 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaptInputChannels,
  cacheFeatures,
  chooseHead,
  createFeatureExtractor,
  createHead,
  featuresOnly,
  fineTune,
  freeze,
  loadFeatureCache,
  parameterCounts,
  resetClassifier,
  saveFeatureCache,
  trainHeadOnCache,
  unfreeze,
} from './index';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

function batchesOf(n: number, size: number, channels = 3, side = 16, classes = 3) {
  return Array.from({ length: n }, (_, i) => ({
    x: tf.randomUniform([size, side, side, channels], -1, 1, 'float32', 100 + i),
    y: tf.tensor1d(
      Array.from({ length: size }, (_, s) => (i * size + s) % classes),
      'int32',
    ),
  }));
}

const disposeBatches = (batches: { x: tf.Tensor; y: tf.Tensor }[]) => {
  for (const b of batches) tf.dispose([b.x, b.y]);
};

beforeAll(async () => {
  await useBackend('cpu');
  manualSeed(0);
});

describe('feature extraction', () => {
  it('returns intermediate outputs by state-dict path, equal to the model own features, without leaks', () => {
    const model = cifarResnet20();
    model.eval();
    const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const extractor = createFeatureExtractor(model, {
      layer1: 'low',
      layer3: 'high',
      'layer2.0.conv1': 'mid',
    });
    const out = extractor.forward(x);
    expect(Object.keys(out)).toEqual(['low', 'high', 'mid']);
    expect(out.low.shape).toEqual([2, 16, 16, 16]);
    expect(out.mid.shape).toEqual([2, 8, 8, 32]);
    expect(out.high.shape).toEqual([2, 4, 4, 64]);
    const reference = tf.tidy(() => model.forwardFeatures(x));
    expect(maxDiff(out.high, reference)).toBe(0);
    tf.dispose([reference, ...Object.values(out)]);
    expect(tf.memory().numTensors).toBe(before);
    // The model is unchanged afterwards.
    expect(Object.hasOwn(model.layer1, 'forward')).toBe(false);
    expect(() => createFeatureExtractor(model, ['layer4'])).toThrow(
      /createFeatureExtractor: unknown module "layer4"; valid paths: conv1, bn1, relu, layer1, layer1\.0, /,
    );
    tf.dispose(x);
    model.dispose();
  });

  it('featuresOnly follows featureInfo: channels and reductions match the outputs', () => {
    const model = cifarResnet20();
    model.eval();
    const x = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 2);
    const extractor = featuresOnly(model);
    const maps = extractor.forwardList(x);
    maps.forEach((m, i) => {
      const info = extractor.featureInfo?.[i];
      expect(m.shape).toEqual([
        1,
        16 / (info?.reduction ?? 0),
        16 / (info?.reduction ?? 0),
        info?.channels,
      ]);
    });
    tf.dispose([x, ...maps]);
    expect(featuresOnly(model, { outIndices: [2] }).nodes).toEqual({ layer3: 'layer3' });
    expect(() => featuresOnly(model, { outIndices: ['layer9'] })).toThrow(
      'featuresOnly: unknown stage "layer9"; valid stages: 0 (layer1), 1 (layer2), 2 (layer3)',
    );
    expect(() => freeze(model, { stages: [3] })).toThrow(
      'freeze: unknown stage 3; valid stages: 0 (layer1), 1 (layer2), 2 (layer3)',
    );
    model.dispose();
  });
});

describe('heads', () => {
  it('replaces the classifier by one linear layer or several FC layers; a width mismatch names both', () => {
    const model = cifarResnet20();
    resetClassifier(model, 4);
    expect(Object.keys(model.stateDict()).filter((k) => k.startsWith('fc.'))).toEqual([
      'fc.weight',
      'fc.bias',
    ]);
    resetClassifier(model, 7, { hidden: [32, 16], dropout: 0.2 });
    expect(Object.keys(model.stateDict()).filter((k) => k.startsWith('fc.'))).toEqual([
      'fc.0.weight',
      'fc.0.bias',
      'fc.3.weight',
      'fc.3.bias',
      'fc.6.weight',
      'fc.6.bias',
    ]);
    const x = tf.zeros([2, 16, 16, 3]);
    const y = tf.tidy(() => model.eval().forward(x));
    expect(y.shape).toEqual([2, 7]);
    tf.dispose([x, y]);
    expect(() => resetClassifier(model, 3, new Linear({ inFeatures: 10, outFeatures: 3 }))).toThrow(
      'resetClassifier: the head takes 10 input features, but cifarResnet20\'s encoder gives 64 (the input of "fc")',
    );
    expect(() => createHead(64, 3, { hidden: [0] })).toThrow(
      'createHead: expected hidden[0] to be a positive integer, received 0',
    );
    model.dispose();
  });

  it('chooseHead follows the course rule', () => {
    expect(chooseHead(10).strategy).toBe('last-fc');
    expect(chooseHead(10).head).toEqual({});
    expect(chooseHead(500).strategy).toBe('several-fc');
    expect(chooseHead(500).head.hidden).toEqual([256]);
    expect(chooseHead(5000)).toMatchObject({ strategy: 'fine-tune', unfreezeStages: 2 });
    expect(() => chooseHead(0)).toThrow('chooseHead: expected samplesPerClass > 0, received 0');
  });
});

describe('freeze / unfreeze', () => {
  it('by stage, up to a layer and by path; counts match summary; frozen BatchNorm is in inference mode', () => {
    const model = cifarResnet20();
    const total = parameterCounts(model).total;
    const counts = freeze(model, { upToStage: 'layer2' });
    const frozenKeys = model
      .namedParameters()
      .filter(([, p]) => !p.trainable)
      .map(([k]) => k);
    expect(frozenKeys[0]).toBe('conv1.weight');
    expect(frozenKeys.every((k) => !k.startsWith('layer3') && !k.startsWith('fc'))).toBe(true);
    expect(frozenKeys.some((k) => k.startsWith('layer2.2'))).toBe(true);
    const s = summary(model, [1, 16, 16, 3]);
    expect(s.trainableParams).toBe(counts.trainable);
    expect(s.nonTrainableParams).toBe(counts.frozen);
    expect(counts.total).toBe(total);

    // Frozen BN: train mode, but running statistics neither used nor updated.
    model.train();
    const x = tf.randomUniform([4, 16, 16, 3], 0, 3, 'float32', 5);
    const mean = model.bn1.running_mean?.variable.dataSync().slice() as Float32Array;
    tf.tidy(() => model.forward(x));
    expect([...(model.bn1.running_mean?.variable.dataSync() ?? [])]).toEqual([...mean]);
    const layer3Mean = model.layer3.namedBuffers()[0][1].variable.dataSync().slice();
    tf.tidy(() => model.forward(x));
    expect([...model.layer3.namedBuffers()[0][1].variable.dataSync()]).not.toEqual([...layer3Mean]);
    // keepBatchStatistics: frozen parameters, batch statistics still used and updated.
    unfreeze(model);
    freeze(model, { paths: ['bn1'], keepBatchStatistics: true });
    expect(model.bn1.weight?.trainable).toBe(false);
    tf.tidy(() => model.forward(x));
    expect([...(model.bn1.running_mean?.variable.dataSync() ?? [])]).not.toEqual([...mean]);

    unfreeze(model);
    expect(freeze(model, { upTo: 'layer1.0.conv1' }).frozen).toBe(
      16 * 3 * 9 + 16 * 2 + 16 * 16 * 9,
    );
    expect(() => freeze(model, { paths: ['layer7'] })).toThrow(
      /^freeze: unknown module "layer7"; valid paths: conv1, bn1/,
    );
    tf.dispose(x);
    model.dispose();
  });
});

describe('fineTune', () => {
  it('head first, then the top stages with layer-wise decayed LRs and warmup; no leaks across phases', async () => {
    const model = lenet5({ numClasses: 10, inChannels: 1 });
    resetClassifier(model, 3);
    const data = batchesOf(3, 4, 1, 28);
    const lrs: number[] = [];
    const before = tf.memory().numTensors;
    const result = await fineTune(model, {
      data,
      validationData: data,
      headEpochs: 1,
      fineTuneEpochs: 2,
      unfreezeStages: 1,
      lr: 1e-3,
      layerDecay: 0.5,
      warmupSteps: 4,
      patience: 5,
      callbacks: [{ onBatchEnd: (logs) => void lrs.push(logs.lr) }],
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.groups).toEqual([
      {
        prefix: 'classifier.4',
        lr: 1e-3,
        parameters: 400 * 120 + 120 + 120 * 84 + 84 + 84 * 3 + 3,
      },
      { prefix: 'features.5', lr: 5e-4, parameters: 6 * 16 * 25 + 16 },
    ]);
    // Phase 1 at the head lr; phase 2 warms up over 4 steps from lr / 4 (fit logs each batch's
    // lr after the per-batch schedule step: the lr of the next step).
    expect(lrs.slice(0, 3)).toEqual([1e-3, 1e-3, 1e-3]);
    expect(lrs.slice(3, 7).map((v) => Number(v.toPrecision(6)))).toEqual([
      5e-4, 7.5e-4, 1e-3, 1e-3,
    ]);
    expect(model.features.layers[0].namedParameters()[0][1].trainable).toBe(false);
    expect(model.features.layers[3].namedParameters()[0][1].trainable).toBe(true);
    disposeBatches(data);
    model.dispose();
  });

  it('refuses before any work: nothing trainable, unknown stage counts, both phases empty', async () => {
    const model = lenet5({ numClasses: 10, inChannels: 1 });
    const untouchable = {
      [Symbol.iterator]() {
        throw new Error('the data was read');
      },
    };
    model.classifier.layers[4] = new Identity();
    await expect(fineTune(model, { data: untouchable })).rejects.toThrow(
      'fineTune: nothing trainable: the classifier "classifier.4" of lenet5 has no parameters (replace it with resetClassifier first)',
    );
    await expect(fineTune(model, { data: untouchable, unfreezeStages: 3 })).rejects.toThrow(
      "fineTune: expected unfreezeStages to be an integer from 0 to 2 (lenet5's stages: features.2, features.5), received 3",
    );
    await expect(
      fineTune(model, { data: untouchable, headEpochs: 0, fineTuneEpochs: 0 }),
    ).rejects.toThrow('nothing to train');
    model.dispose();
  });

  it('resumes from its checkpoints: a finished run is not trained again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
    const model = lenet5({ numClasses: 10, inChannels: 1 });
    resetClassifier(model, 3);
    const data = batchesOf(2, 4, 1, 28);
    const first = await fineTune(model, {
      data,
      headEpochs: 1,
      fineTuneEpochs: 1,
      checkpointDir: dir,
    });
    expect(first.head?.epochsRun).toBe(1);
    const again = await fineTune(model, {
      data,
      headEpochs: 1,
      fineTuneEpochs: 2,
      checkpointDir: dir,
    });
    expect(again.head).toBeNull(); // phase 2 had a checkpoint: phase 1 is done
    expect(again.fineTune?.epochsRun).toBe(1); // epoch 2 of 2 only
    expect(again.fineTune?.history).toHaveLength(2);
    disposeBatches(data);
    model.dispose();
  });
});

describe('feature caching', () => {
  it('caches the classifier input once, trains a head on it, round-trips through safetensors', async () => {
    const model = cifarResnet20();
    const data = batchesOf(2, 4);
    const before = tf.memory().numTensors;
    const cache = await cacheFeatures(model, data);
    expect(cache.features.shape).toEqual([8, 64]);
    expect(cache.labels.shape).toEqual([8]);
    const pooled = tf.tidy(() => tf.mean(model.eval().forwardFeatures(data[0].x), [1, 2]));
    expect(
      maxDiff(
        tf.tidy(() => cache.features.slice([0, 0], [4, 64])),
        pooled,
      ),
    ).toBeLessThan(1e-6);
    pooled.dispose();

    const path = join(mkdtempSync(join(tmpdir(), 'cache-')), 'features.safetensors');
    await saveFeatureCache(path, cache);
    const loaded = await loadFeatureCache(path);
    expect(maxDiff(loaded.features, cache.features)).toBe(0);

    const head = createHead(64, 3);
    const fitted = await trainHeadOnCache(head, loaded, {
      epochs: 3,
      batchSize: 4,
      lr: 1e-2,
      seed: 1,
    });
    expect(fitted.history).toHaveLength(3);
    resetClassifier(model, 3, head);
    // The model with the trained head gives what the head gives on the cached features.
    model.eval();
    const logits = tf.tidy(() => model.forward(data[1].x));
    const fromCache = tf.tidy(() => head.forward(cache.features.slice([4, 0], [4, 64])));
    expect(maxDiff(logits, fromCache)).toBeLessThan(1e-5);
    tf.dispose([logits, fromCache, cache.features, cache.labels, loaded.features, loaded.labels]);
    await expect(
      trainHeadOnCache(createHead(32, 3), { features: tf.zeros([2, 64]), labels: tf.zeros([2]) }),
    ).rejects.toThrow('trainHeadOnCache: the head takes 32 input features, the cache has 64');
    disposeBatches(data);
    // Before: the model's old fc (disposed by resetClassifier) and the new head's variables.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2 + 2);
    model.dispose();
  });
});

describe('input adaptation', () => {
  it("RGB -> gray sums the first conv's input channels (timm); gray -> RGB repeats / 3: same logits on gray images", () => {
    const model = cifarResnet20();
    model.eval();
    const gray = tf.randomUniform([2, 16, 16, 1], -1, 1, 'float32', 9);
    const rgb = tf.tile(gray, [1, 1, 1, 3]);
    const expected = tf.tidy(() => model.forward(rgb));
    adaptInputChannels(model, 1);
    expect(model.conv1.weight.shape).toEqual([3, 3, 1, 16]);
    expect(model.config.inChannels).toBe(1);
    const actual = tf.tidy(() => model.forward(gray));
    expect(maxDiff(actual, expected)).toBeLessThan(1e-5);
    adaptInputChannels(model, 3);
    const back = tf.tidy(() => model.forward(rgb));
    expect(maxDiff(back, expected)).toBeLessThan(1e-5);
    expect(() => tf.tidy(() => model.forward(gray))).toThrow(
      /expected an NHWC input \[N, H, W, 3\]/,
    );
    tf.dispose([gray, rgb, expected, actual, back]);
    model.dispose();
  });
});
