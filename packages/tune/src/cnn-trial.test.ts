import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from '@convkit/tooling/node-child';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objective } from './__fixtures__/cnn-objective';
import { RandomSampler } from './random-sampler';
import { choice, defineSpace, float, int } from './search-space';
import { runStudy, type StudyResult } from './study';
import { threadRunner } from './thread-runner';
import { executeTrial } from './trial';

const here = dirname(fileURLToPath(import.meta.url));
let work: string;

beforeAll(async () => {
  await useBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'convkit-tune-cnn-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const settings = {
  space: defineSpace({
    filters: int(2, 6),
    lr: float(3e-3, 3e-2, { log: true }),
    optimizer: choice(['sgd', 'adam']),
    momentum: float(0.5, 0.95, { when: { param: 'optimizer', equals: 'sgd' } }),
    batchSize: choice([8, 16]),
  }),
  trials: 4,
  seed: 2,
  concurrency: 2,
  direction: 'maximize' as const,
  sampler: new RandomSampler(),
};
const outcome = (r: StudyResult) =>
  r.trials.map(({ number, params, state, value, intermediate }) => ({
    number,
    params,
    state,
    value,
    intermediate,
  }));

describe('a real CNN trial', () => {
  it('trains tiny CNNs with fit, in-process and on two threads with their own backends, alike', async () => {
    const before = tf.memory().numTensors;
    const inProcess = await runStudy({ ...settings, objective });
    expect(tf.memory().numTensors).toBe(before);
    for (const t of inProcess.trials) {
      expect(t.state).toBe('complete');
      expect(t.intermediate.map(([s]) => s)).toEqual([1, 2, 3]);
      expect(t.value).toBe(t.intermediate[2][1]);
    }
    expect(inProcess.best!.value).toBeGreaterThan(0.8); // 2 classes: chance is 1/2
    const [entry, module] = await Promise.all([
      bundleForNode(join(here, 'thread-worker.ts'), join(work, 'thread-worker.mjs')),
      bundleForNode(
        join(here, '__fixtures__', 'cnn-objective.ts'),
        join(work, 'cnn-objective.mjs'),
      ),
    ]);
    const threads = await runStudy({
      ...settings,
      runner: threadRunner({ size: 2, module, entry }),
    });
    expect(outcome(threads)).toEqual(outcome(inProcess));
    expect(new Set(threads.trials.map((t) => t.worker)).size).toBe(2);
  });

  it('a pruned CNN trial stops training at the rung (TrialReporter stops fit)', async () => {
    const before = tf.memory().numTensors;
    const strong = {
      number: 0,
      params: {},
      state: 'complete' as const,
      value: 1.01,
      intermediate: [
        [1, 1.01],
        [2, 1.01],
        [3, 1.01],
      ] as [number, number][],
      seconds: 0,
    };
    const record = await executeTrial(
      {
        study: 'cnn',
        number: 1,
        params: { filters: 2, lr: 0.01, optimizer: 'adam', batchSize: 16 },
        direction: 'maximize',
        pruner: { type: 'asha', minResource: 1, reductionFactor: 2 },
        history: [strong],
      },
      objective,
    );
    expect(record.state).toBe('pruned');
    expect(record.intermediate.length).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
