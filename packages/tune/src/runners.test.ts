import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from '@convkit/tooling/node-child';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from './__fixtures__/redis-server';
import { objective } from './__fixtures__/synthetic-objective';
import { redisRunner } from './redis-runner';
import { choice, defineSpace, float, int } from './search-space';
import { startWorker, type TuneWorker } from './start-worker';
import { runStudy, type StudyResult } from './study';
import { threadRunner } from './thread-runner';
import { TpeSampler } from './tpe-sampler';
import type { TrialRecord } from './trial';

const here = dirname(fileURLToPath(import.meta.url));
let work: string;
let redis: TestRedis;
let threadEntry: string;
let objectiveModule: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'convkit-tune-'));
  [threadEntry, objectiveModule] = await Promise.all([
    bundleForNode(join(here, 'thread-worker.ts'), join(work, 'thread-worker.mjs')),
    bundleForNode(
      join(here, '__fixtures__', 'synthetic-objective.ts'),
      join(work, 'objective.mjs'),
    ),
  ]);
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await rm(work, { recursive: true, force: true });
});

const space = defineSpace({ x: float(0, 1), width: int(8, 64), kind: choice(['a', 'b']) });
const settings = {
  space,
  trials: 14,
  seed: 5,
  concurrency: 2,
  sampler: new TpeSampler({ startupTrials: 4 }),
  pruner: { type: 'asha', minResource: 1, reductionFactor: 3 } as const,
};
/** What a seed determines: everything but who ran a trial and how long it took. */
const outcome = (r: StudyResult) =>
  r.trials.map(({ number, params, state, value, intermediate }) => ({
    number,
    params,
    state,
    value,
    intermediate,
  }));

async function withWorkers<T>(
  count: number,
  fn: (workers: TuneWorker[], ran: TrialRecord[]) => Promise<T>,
) {
  const ran: TrialRecord[] = [];
  const workers = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startWorker({ url: redis.url, objective, id: `w${i}`, onTrial: (r) => ran.push(r) }),
    ),
  );
  try {
    return await fn(workers, ran);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

describe('runners', () => {
  let reference: StudyResult;

  beforeAll(async () => {
    reference = await runStudy({ ...settings, name: 'reference', objective });
  });

  it('a seeded study pruned with ASHA: trials pruned and the best found', () => {
    expect(reference.trials.length).toBe(14);
    expect(reference.trials.some((t) => t.state === 'pruned')).toBe(true);
    expect(reference.best!.state).toBe('complete');
    expect(reference.stop).toBe('completed');
  });

  it('worker threads give the same study as in-process, on two threads', async () => {
    const result = await runStudy({
      ...settings,
      name: 'threads',
      runner: threadRunner({ size: 2, module: objectiveModule, entry: threadEntry }),
    });
    expect(outcome(result)).toEqual(outcome(reference));
    const threads = new Set(result.trials.map((t) => t.worker));
    expect(threads.size).toBe(2);
    for (const w of threads) expect(w).toMatch(/^.+:\d+:\d+$/);
  });

  it('BullMQ workers through Redis give the same study as in-process', async () => {
    await withWorkers(2, async (_, ran) => {
      const result = await runStudy({
        ...settings,
        name: 'redis',
        runner: redisRunner({ url: redis.url }),
      });
      expect(outcome(result)).toEqual(outcome(reference));
      expect(new Set(result.trials.map((t) => t.worker))).toEqual(new Set(['w0', 'w1']));
      expect(ran.length).toBe(14);
      expect(result.duplicates).toBe(0);
    });
  });

  it('a coordinator that stops resumes the study from Redis without rerunning finished trials', async () => {
    await withWorkers(2, async (_, ran) => {
      const stop = new AbortController();
      const first = await runStudy({
        ...settings,
        name: 'resume',
        runner: redisRunner({ url: redis.url }),
        signal: stop.signal,
        onTrial: () => {
          if (!stop.signal.aborted && ran.length >= 5) stop.abort();
        },
      });
      expect(first.stop).toBe('aborted');
      expect(first.trials.length).toBeLessThan(14);
      // A new coordinator (as after a restart): same name, same settings.
      const second = await runStudy({
        ...settings,
        name: 'resume',
        runner: redisRunner({ url: redis.url }),
      });
      expect(outcome(second)).toEqual(outcome(reference));
      expect(ran.length).toBe(14); // every trial ran once in all
      expect(new Set(ran.map((r) => r.number)).size).toBe(14);
      // Other settings under the same name are refused, naming what changed.
      await expect(
        runStudy({ ...settings, seed: 6, name: 'resume', runner: redisRunner({ url: redis.url }) }),
      ).rejects.toThrow(/study 'resume' exists in Redis with other settings \(seed\)/);
    });
  });

  it('threadRunner names a missing objective export', async () => {
    await expect(
      runStudy({
        ...settings,
        runner: threadRunner({
          size: 1,
          module: objectiveModule,
          entry: threadEntry,
          exportName: 'nope',
        }),
      }),
    ).rejects.toThrow(/no function export 'nope'/);
  });
});
