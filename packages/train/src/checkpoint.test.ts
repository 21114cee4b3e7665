import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globalRandom, manualSeed, measureLeaks } from '@convkit/backend';
import { DataLoader, InMemoryDataset } from '@convkit/data';
import { Adam, StepLR } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToyLoader, tinyCnn, toyData, weightsOf } from './__fixtures__/toy';
import type { BatchLogs } from './callback';
import { CheckpointError, loadCheckpoint, saveCheckpoint, verifyCheckpoint } from './checkpoint';
import { CSVLogger } from './csv-logger';
import { EarlyStopping } from './early-stopping';
import { fit } from './fit';
import { ModelCheckpoint } from './model-checkpoint';
import type { Batch, DataSource } from './types';

let root: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'convkit-train-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Everything a run needs, built fresh (new model, optimizer, schedule, loader objects). */
function setup(kind: 'toy' | 'loader', modelSeed: number) {
  manualSeed(modelSeed);
  const model = tinyCnn();
  const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
  const schedule = new StepLR(optimizer, { stepSize: 1, gamma: 0.7 });
  let data: DataSource<Batch>;
  if (kind === 'toy') {
    data = new ToyLoader({ n: 96, batchSize: 16, seed: 21, shuffle: true, noise: 0.1 });
  } else {
    const { images, labels } = toyData(100, 22);
    const dataset = new InMemoryDataset({ images, shape: [100, 8, 8, 1], labels });
    data = new DataLoader(dataset, { batchSize: 16, shuffle: true, seed: 5 });
  }
  const losses: number[] = [];
  const recorder = { onBatchEnd: (l: BatchLogs) => void losses.push(l.loss) };
  const stopper = new EarlyStopping({ monitor: 'loss', patience: 5 });
  return { model, optimizer, schedule, data, losses, recorder, stopper };
}

describe('checkpoints', () => {
  it.each(['toy', 'loader'] as const)(
    'resume reproduces the uninterrupted run bit for bit (%s data)',
    async (kind) => {
      // Uninterrupted: 3 epochs.
      const a = setup(kind, 1);
      await fit(a.model, {
        data: a.data,
        optimizer: a.optimizer,
        schedule: a.schedule,
        epochs: 3,
        callbacks: [a.recorder, a.stopper],
      });
      const perEpoch = a.losses.length / 3;

      // 1 epoch with checkpoints.
      const dir = join(root, `resume-${kind}`);
      const b = setup(kind, 1);
      await fit(b.model, {
        data: b.data,
        optimizer: b.optimizer,
        schedule: b.schedule,
        epochs: 1,
        callbacks: [b.recorder, b.stopper, new ModelCheckpoint({ dir, monitor: 'loss' })],
      });
      expect(b.losses).toEqual(a.losses.slice(0, perEpoch));

      // Fresh objects (another init seed, the random stream moved on), resumed to epoch 3.
      const c = setup(kind, 99);
      globalRandom().normalArray(17);
      const result = await fit(c.model, {
        data: c.data,
        optimizer: c.optimizer,
        schedule: c.schedule,
        epochs: 3,
        resumeFrom: join(dir, 'last'),
        callbacks: [c.recorder, c.stopper],
      });
      expect(result.epochsRun).toBe(2);
      expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
      // Bit for bit: toEqual on numbers is Object.is per element.
      expect(c.losses).toEqual(a.losses.slice(perEpoch));
      expect(weightsOf(c.model)).toEqual(weightsOf(a.model));
      expect(c.optimizer.getLr()).toBe(a.optimizer.getLr());
      expect(c.stopper.stateDict()).toEqual(a.stopper.stateDict());
      for (const r of [a, b, c]) {
        r.optimizer.dispose();
        r.model.dispose();
      }
    },
  );

  it('saves atomically: manifest last, old files removed, nothing leaked', async () => {
    const dir = join(root, 'plain');
    manualSeed(3);
    const model = tinyCnn();
    const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
    const data = new ToyLoader({ n: 32, batchSize: 16, seed: 2 });
    await fit(model, { data, optimizer });
    const { leakedTensors } = await measureLeaks(async () => {
      await saveCheckpoint(dir, { model, optimizer, epoch: 1, extra: { note: 'first' } });
      await saveCheckpoint(dir, { model, optimizer, epoch: 2 });
    });
    expect(leakedTensors).toBe(0);
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(3);
    expect(files[0]).toBe('checkpoint.json');
    expect(files[1]).toMatch(/^model-e0002-.*\.safetensors$/);
    expect(files[2]).toMatch(/^optimizer-e0002-.*\.safetensors$/);
    const manifest = await verifyCheckpoint(dir);
    expect(manifest.epoch).toBe(2);
    expect(manifest.weights.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.architecture).toEqual(model.toJSON());

    // Load without a model: rebuilt from the architecture, weights equal; optimizer state equal.
    // (The rebuilt model and the loaded optimizer state are new tensors; once they are
    // disposed, the count is back where it was.)
    const tensorsBefore = tf.memory().numTensors;
    const optimizerCopy = new Adam(model.trainableVariables(), { lr: 0.5 });
    const loaded = await loadCheckpoint(dir, { optimizer: optimizerCopy });
    const rebuilt = loaded.model as ReturnType<typeof tinyCnn>;
    expect(weightsOf(rebuilt)).toEqual(weightsOf(model));
    expect(optimizerCopy.stateDict()).toEqual(optimizer.stateDict());
    rebuilt.dispose();
    optimizerCopy.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    optimizer.dispose();
    model.dispose();
  });

  it('refuses broken checkpoints with an error naming the file', async () => {
    manualSeed(4);
    const model = tinyCnn();
    const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
    const fresh = async (name: string) => {
      const dir = join(root, name);
      const manifest = await saveCheckpoint(dir, { model, optimizer, epoch: 1 });
      return {
        dir,
        manifest,
        weights: join(dir, manifest.weights.file),
        json: join(dir, 'checkpoint.json'),
      };
    };
    const before = weightsOf(model);
    const expectRefused = async (dir: string, file: string, pattern: RegExp) => {
      const error = await loadCheckpoint(dir, { model }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).file).toBe(file);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(pattern);
      expect(weightsOf(model)).toEqual(before); // nothing was changed
    };

    const empty = join(root, 'empty');
    await expectRefused(empty, join(empty, 'checkpoint.json'), /not found/);

    const badJson = await fresh('bad-json');
    await writeFile(badJson.json, '{"format": "convkit-checkpoint", "epo');
    await expectRefused(badJson.dir, badJson.json, /not valid JSON/);

    const missing = await fresh('missing');
    await unlink(missing.weights);
    await expectRefused(missing.dir, missing.weights, /is missing/);

    const truncated = await fresh('truncated');
    await truncate(truncated.weights, truncated.manifest.weights.bytes - 100);
    await expectRefused(truncated.dir, truncated.weights, /truncated/);

    const corrupted = await fresh('corrupted');
    const bytes = await readFile(corrupted.weights);
    bytes[bytes.length - 5] ^= 0xff;
    await writeFile(corrupted.weights, bytes);
    await expectRefused(corrupted.dir, corrupted.weights, /SHA-256 mismatch/);

    // A file whose hash matches the manifest but which is not safetensors: the reader says why.
    const garbage = await fresh('garbage');
    const junk = new Uint8Array(garbage.manifest.weights.bytes).fill(0xff);
    await writeFile(garbage.weights, junk);
    const manifest = JSON.parse(await readFile(garbage.json, 'utf8'));
    const { sha256Hex } = await import('./internal/sha256');
    manifest.weights.sha256 = await sha256Hex(junk);
    await writeFile(garbage.json, JSON.stringify(manifest));
    await expectRefused(garbage.dir, garbage.weights, /.+/);

    optimizer.dispose();
    model.dispose();
  });

  it('ModelCheckpoint keeps last and best; CSVLogger writes one row per epoch', async () => {
    const dir = join(root, 'callbacks');
    manualSeed(6);
    const model = tinyCnn();
    const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
    const data = new ToyLoader({ n: 64, batchSize: 16, seed: 7, shuffle: true });
    const val = new ToyLoader({ n: 32, batchSize: 32, seed: 8 });
    const checkpoint = new ModelCheckpoint({ dir, monitor: 'val_accuracy' });
    const csv = join(dir, 'metrics.csv');
    const result = await fit(model, {
      data,
      optimizer,
      epochs: 3,
      metrics: ['accuracy'],
      validationData: val,
      callbacks: [checkpoint, new CSVLogger(csv)],
    });
    const last = await verifyCheckpoint(join(dir, 'last'));
    const best = await verifyCheckpoint(join(dir, 'best'));
    expect(last.epoch).toBe(3);
    const accuracies = result.history.map((h) => h.valMetrics!.accuracy);
    const bestEpoch = accuracies.indexOf(Math.max(...accuracies));
    expect(best.epoch).toBe(bestEpoch + 1);
    expect(best.extra?.best).toBe(accuracies[bestEpoch]);
    expect(last.history).toHaveLength(3);
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds');
    expect(lines).toHaveLength(4);
    expect(Number(lines[3].split(',')[1])).toBe(result.history[2].loss);
    optimizer.dispose();
    model.dispose();
  });
});
