import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '@convkit/backend';
import { Linear } from '@convkit/layers';
import * as losses from '@convkit/losses';
import { SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyLoader, tinyCnn } from './__fixtures__/toy';
import { CSVLogger } from './csv-logger';
import { EarlyStopping } from './early-stopping';
import { fit } from './fit';
import { resolveLoss } from './internal/loss';
import type { Batch } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

/** y = 2x - 1 with a little noise, in batches of 16. */
function regressionBatches(): Batch[] {
  return tf.tidy(() => {
    const x = tf.linspace(-1, 1, 64).reshape([64, 1]);
    const y = tf.sub(tf.mul(x, 2), 1);
    return [0, 16, 32, 48].map((s) => ({
      x: tf.keep(x.slice([s, 0], [16, 1])),
      y: tf.keep(y.slice([s, 0], [16, 1])),
    }));
  });
}

describe('loss names in fit', () => {
  it("trains a regression with 'mse' (PyTorch's and Keras's short name)", async () => {
    manualSeed(0);
    const model = new Linear(1, 1);
    const batches = regressionBatches();
    const before = tf.memory().numTensors;
    const result = await fit(model, {
      data: batches,
      optimizer: new SGD(model.trainableVariables(), { lr: 0.1 }),
      loss: 'mse',
      metrics: [],
      epochs: 20,
    });
    const [first, last] = [result.history[0].loss, result.history.at(-1)!.loss];
    expect(last).toBeLessThan(first / 10);
    expect(tf.memory().numTensors).toBe(before);
    for (const b of batches) tf.dispose([b.x, b.y]);
    model.dispose();
  });

  it('resolves every loss of @convkit/losses by its export name', () => {
    const exported = Object.entries(losses).filter(
      ([name, value]) => typeof value === 'function' && /Loss$|Entropy|^klDiv$/.test(name),
    );
    expect(exported.length).toBeGreaterThanOrEqual(12);
    for (const [name] of exported) {
      expect(() => resolveLoss(name as never), name).not.toThrow();
    }
  });

  it("refuses an unknown fit option (Keras's verbose) with the valid ones", async () => {
    const model = new Linear(1, 1);
    const batches = regressionBatches();
    await expect(
      fit(model, {
        data: batches,
        optimizer: new SGD(model.trainableVariables(), { lr: 0.1 }),
        // @ts-expect-error Keras's option, not fit's
        verbose: 0,
      }),
    ).rejects.toThrow(/fit: unknown option 'verbose'\. Valid: data, optimizer, epochs/);
    for (const b of batches) tf.dispose([b.x, b.y]);
    model.dispose();
  });

  it('refuses an unknown name with the nearest valid one', () => {
    expect(() => resolveLoss('meanSquaredError' as never)).toThrow(
      /loss: unknown loss 'meanSquaredError'/,
    );
    expect(() => resolveLoss('crossEntrpy' as never)).toThrow(
      /unknown loss 'crossEntrpy'; did you mean 'crossEntropy'\?/,
    );
    expect(() => resolveLoss(42 as never)).toThrow(/expected a loss name .* received 42/);
  });
});

describe('one naming scheme for logged values', () => {
  it('series, CSV columns and monitors all say loss, accuracy, val_loss, val_accuracy, lr', async () => {
    manualSeed(0);
    const model = tinyCnn();
    const dir = await mkdtemp(join(tmpdir(), 'convkit-names-'));
    const csv = join(dir, 'log.csv');
    const result = await fit(model, {
      data: new ToyLoader({ n: 64, batchSize: 32, seed: 1 }),
      validationData: new ToyLoader({ n: 32, batchSize: 32, seed: 2 }),
      optimizer: new SGD(model.trainableVariables(), { lr: 0.05 }),
      metrics: ['accuracy'],
      epochs: 2,
      callbacks: [new CSVLogger(csv), new EarlyStopping({ monitor: 'val_accuracy', patience: 5 })],
    });
    const names = ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr'];
    expect(Object.keys(result.series)).toEqual(names);
    expect(result.series.val_loss).toEqual(result.history.map((e) => e.valLoss));
    const header = (await readFile(csv, 'utf8')).split('\n')[0];
    expect(header).toBe(['epoch', ...names, 'seconds'].join(','));
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('a misspelt monitor is refused with the logged names and the nearest one', async () => {
    const model = tinyCnn();
    await expect(
      fit(model, {
        data: new ToyLoader({ n: 32, batchSize: 32, seed: 1 }),
        validationData: new ToyLoader({ n: 32, batchSize: 32, seed: 2 }),
        optimizer: new SGD(model.trainableVariables(), { lr: 0.05 }),
        metrics: ['accuracy'],
        callbacks: [new EarlyStopping({ monitor: 'val_acc' })],
      }),
    ).rejects.toThrow(
      /EarlyStopping: the logs have no 'val_acc': unknown monitor 'val_acc'; did you mean 'val_accuracy'\? Valid: loss, accuracy, val_loss, val_accuracy, lr/,
    );
    model.dispose();
  });
});
