import { globalRandom, manualSeed, type Stateful } from '@convkit/backend';
import { DataLoader, InMemoryDataset } from '@convkit/data';
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import { Adam, ReduceLROnPlateau, StepLR } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { toyData, weightsOf } from './__fixtures__/toy';
import { EarlyStopping } from './early-stopping';
import { fit } from './fit';
import { ReduceLROnPlateauCallback } from './reduce-lr-on-plateau-callback';

beforeAll(async () => {
  await useBackend('cpu');
});

const { images, labels } = toyData(40, 11);

/** Every stateful part of a run, built from `seed` (the model's initialization draws from it). */
function buildRun(seed: number) {
  manualSeed(seed);
  const model = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Dropout({ p: 0.3 }),
    new Linear({ inFeatures: 4 * 4 * 4, outFeatures: 3 }),
  );
  const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
  const plateau = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5, threshold: 10 });
  const parts = {
    model,
    optimizer,
    schedule: new StepLR(optimizer, { stepSize: 1, gamma: 0.7 }),
    early: new EarlyStopping({ monitor: 'loss', patience: 5 }),
    plateau: new ReduceLROnPlateauCallback(plateau, { monitor: 'loss' }),
    loader: new DataLoader(new InMemoryDataset({ images, shape: [40, 8, 8, 1], labels }), {
      batchSize: 8,
      shuffle: true,
      seed: seed + 1,
    }),
    random: globalRandom(),
  };
  return parts;
}

type Run = ReturnType<typeof buildRun>;

function train(run: Run, epochs: number, initialEpoch: number) {
  return fit(run.model, {
    data: run.loader,
    optimizer: run.optimizer,
    schedule: run.schedule,
    callbacks: [run.early, run.plateau],
    epochs,
    initialEpoch,
  });
}

/** Every part's `stateDict()`, copied so that later training cannot change it. */
function saveAll(run: Run) {
  const { model, ...rest } = run;
  const weights = tf.tidy(() =>
    Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, tf.clone(v)])),
  );
  const json = Object.fromEntries(
    Object.entries(rest).map(([k, part]) => [k, JSON.parse(JSON.stringify(part.stateDict()))]),
  );
  return { weights, json };
}

/** Fresh objects from another seed, then every saved state loaded but `skip`'s. */
function resume(saved: ReturnType<typeof saveAll>, skip: keyof Run | 'none') {
  const run = buildRun(99);
  run.model.loadStateDict(saved.weights);
  const parts: Record<string, Stateful> = { ...run };
  for (const [key, state] of Object.entries(saved.json)) {
    if (key !== skip) parts[key].loadStateDict(state);
  }
  return run;
}

describe('resuming from every stateDict', () => {
  it('2 epochs straight equal 1 epoch, save, fresh objects, load and 1 more (shuffle, dropout on)', async () => {
    const before = tf.memory().numTensors;
    const straight = buildRun(1);
    const full = await train(straight, 2, 0);
    const expected = weightsOf(straight.model);
    const expectedLr = straight.optimizer.paramGroups[0].lr;

    const first = buildRun(1);
    await train(first, 1, 0);
    const saved = saveAll(first);

    // Fresh objects from another seed: nothing carries over but what is loaded.
    const resumed = resume(saved, 'none');
    const tail = await train(resumed, 2, 1);

    expect(tail.history.map((e) => e.loss)).toEqual([full.history[1].loss]);
    expect(resumed.optimizer.paramGroups[0].lr).toBe(expectedLr);
    expect(resumed.loader.stateDict()).toEqual(straight.loader.stateDict());
    expect(resumed.early.stateDict()).toEqual(straight.early.stateDict());
    const got = weightsOf(resumed.model);
    for (const key of Object.keys(expected)) {
      const diff = Math.max(...expected[key].map((v, i) => Math.abs(v - got[key][i])));
      expect(diff, key).toBeLessThanOrEqual(1e-6);
    }
    // A resume that skips the random stream (dropout masks) or the loader (shuffling) diverges.
    const forgetful: Run[] = [];
    for (const skip of ['random', 'loader'] as const) {
      const run = resume(saved, skip);
      forgetful.push(run);
      await train(run, 2, 1);
      expect(weightsOf(run.model)['5.weight'], skip).not.toEqual(got['5.weight']);
    }
    tf.dispose(Object.values(saved.weights));
    for (const run of [straight, first, resumed, ...forgetful]) {
      run.optimizer.dispose();
      run.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
