import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, writeFileAtomic } from '@convkit/backend';
import { Adam, SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToyLoader, tinyCnn } from './__fixtures__/toy';
import { verifyCheckpoint } from './checkpoint';
import { fit } from './fit';
import { ModelCheckpoint } from './model-checkpoint';
import { TerminateOnNaN } from './terminate-on-nan';

let root: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'convkit-model-checkpoint-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ModelCheckpoint and TerminateOnNaN', () => {
  it('saves nothing when a step leaves the weights non-finite after a finite loss', async () => {
    const dir = join(root, 'nan-weights');
    manualSeed(1);
    const model = tinyCnn();
    // An infinite step: the one batch of epoch 1 has a finite loss, the weights after it are not.
    const optimizer = new SGD(model.trainableVariables(), { lr: Number.POSITIVE_INFINITY });
    const stopper = new TerminateOnNaN();
    const result = await fit(model, {
      data: new ToyLoader({ n: 16, batchSize: 16, seed: 2 }),
      optimizer,
      epochs: 3,
      callbacks: [new ModelCheckpoint({ dir, monitor: 'loss' }), stopper],
    });
    expect(result.stopReason).toBe('nan');
    expect(Number.isFinite(result.history[0].loss)).toBe(true);
    expect(stopper.at).toMatchObject({ epoch: 0, batch: -1, what: 'weights' });
    expect(existsSync(join(dir, 'last'))).toBe(false);
    expect(existsSync(join(dir, 'best'))).toBe(false);
    optimizer.dispose();
    model.dispose();
  });

  it('writes last/ before best/, and a resumed run repairs a best/ that a kill left behind', async () => {
    const dir = join(root, 'order');
    const run = async (epochs: number, resumeFrom?: string) => {
      manualSeed(3);
      const model = tinyCnn();
      const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
      const checkpoint = new ModelCheckpoint({ dir, monitor: 'loss' });
      await fit(model, {
        data: new ToyLoader({ n: 32, batchSize: 16, seed: 4 }),
        optimizer,
        epochs,
        resumeFrom,
        callbacks: [checkpoint],
      });
      optimizer.dispose();
      model.dispose();
      return checkpoint;
    };
    const first = await run(2);
    expect(first.saved).toEqual([join(dir, 'last'), join(dir, 'best')]);
    const last = await verifyCheckpoint(join(dir, 'last'));
    expect(last.epoch).toBe(2);
    expect(last.extra?.bestEpoch).toBe(2);
    // A kill after last/ and before best/: best/ still holds epoch 1.
    const bestManifest = join(dir, 'best', 'checkpoint.json');
    const manifest = JSON.parse(await readFile(bestManifest, 'utf8'));
    await writeFileAtomic(bestManifest, JSON.stringify({ ...manifest, epoch: 1 }));
    await run(3, join(dir, 'last'));
    const best = await verifyCheckpoint(join(dir, 'best'));
    const lastAfter = await verifyCheckpoint(join(dir, 'last'));
    expect(lastAfter.epoch).toBe(3);
    // best/ holds the best epoch recorded in last/ (2 from the repair, or 3 if epoch 3 improved).
    expect(best.epoch).toBe(lastAfter.extra?.bestEpoch);
    expect([2, 3]).toContain(best.epoch);
  });
});
