import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from '@convkit/tooling/node-child';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultSettings } from './__fixtures__/fault-settings';
import { startRedis, type TestRedis } from './__fixtures__/redis-server';
import { objective } from './__fixtures__/synthetic-objective';
import { inProcessRunner } from './in-process-runner';
import { redisRunner } from './redis-runner';
import type { Runner } from './runner';
import { startWorker } from './start-worker';
import { runStudy, type StudyResult } from './study';
import type { TrialRecord } from './trial';

const here = dirname(fileURLToPath(import.meta.url));
let work: string;
let redis: TestRedis;
let workerScript: string;
let coordinatorScript: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'convkit-tune-faults-'));
  [workerScript, coordinatorScript] = await Promise.all([
    bundleForNode(join(here, '__fixtures__', 'worker-process.ts'), join(work, 'worker.mjs')),
    bundleForNode(
      join(here, '__fixtures__', 'coordinator-process.ts'),
      join(work, 'coordinator.mjs'),
    ),
  ]);
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await rm(work, { recursive: true, force: true });
});

const settings = faultSettings;
const outcome = (r: StudyResult) =>
  r.trials.map(({ number, params, state, value, intermediate }) => ({
    number,
    params,
    state,
    value,
    intermediate,
  }));

interface WorkerProcess {
  proc: ChildProcess;
  id: string;
  output: () => string;
}

/** A worker process (bundled fixture) with a short job lock; resolves once it is ready. */
function spawnWorker(lockMs: number, env: Record<string, string>): Promise<WorkerProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [workerScript, redis.url, String(lockMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const ready = /ready (\S+)/.exec(out);
      if (ready) resolve({ proc, id: ready[1], output: () => out });
    });
    proc.stderr!.on('data', (d) => {
      err += d;
    });
    proc.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before it was ready: ${err}`)),
    );
  });
}

async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}

describe('faults', () => {
  let reference: StudyResult;
  beforeAll(async () => {
    reference = await runStudy({ ...settings, name: 'reference', objective });
  });

  it('a worker SIGKILLed mid-trial: its trial is run again by another worker, counted once', async () => {
    const env = { TUNE_EPOCH_MS: '80', TUNE_ANNOUNCE: '1' };
    const a = await spawnWorker(500, env);
    const b = await spawnWorker(500, env);
    try {
      let killed: number | undefined;
      const watch = setInterval(() => {
        // Kill worker a once it is in epoch 3 of some trial.
        const m = /epoch (\d+) 3\n/.exec(a.output());
        if (m && killed === undefined) {
          killed = Number(m[1]);
          a.proc.kill('SIGKILL');
        }
      }, 5);
      const result = await runStudy({
        ...settings,
        name: 'sigkill',
        runner: redisRunner({ url: redis.url }),
      });
      clearInterval(watch);
      expect(killed).toBeDefined();
      expect(a.proc.signalCode).toBe('SIGKILL');
      const retried = result.trials.find((t) => t.number === killed)!;
      expect(retried.worker).toBe(b.id);
      expect(retried.intermediate.length).toBeGreaterThan(0);
      expect(outcome(result)).toEqual(outcome(reference));
      expect(result.duplicates).toBe(0);
      // b ran the killed trial from its start, and every trial was recorded exactly once.
      const lines = b.output().split('\n');
      expect(lines).toContain(`epoch ${killed} 1`);
      const recorded = lines.filter((l) => / true$/.test(l)).map((l) => Number(l.split(' ')[1]));
      const byA = result.trials.filter((t) => t.worker === a.id).map((t) => t.number);
      expect([...recorded, ...byA].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await Promise.all([stopProcess(a.proc, 'SIGKILL'), stopProcess(b.proc)]);
    }
  });

  it('a coordinator SIGKILLed mid-study: a new one resumes from Redis, no trial run twice', async () => {
    const ran: TrialRecord[] = [];
    const workers = await Promise.all(
      [0, 1].map((i) =>
        startWorker({ url: redis.url, objective, id: `c${i}`, onTrial: (r) => ran.push(r) }),
      ),
    );
    try {
      const coordinator = spawn(
        process.execPath,
        [coordinatorScript, redis.url, 'coordinator-kill'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      await new Promise<void>((resolve, reject) => {
        coordinator.stdout!.on('data', (d) => {
          out += d;
          if ((out.match(/^trial /gm) ?? []).length >= 3 && coordinator.exitCode === null) {
            coordinator.kill('SIGKILL');
            resolve();
          }
        });
        coordinator.stderr!.on('data', (d) => {
          out += d;
        });
        coordinator.once('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`coordinator exited (${code}) early: ${out}`));
        });
      });
      await new Promise((r) => coordinator.once('exit', r));
      expect(out).not.toContain('finished');
      const result = await runStudy({
        ...settings,
        name: 'coordinator-kill',
        runner: redisRunner({ url: redis.url }),
      });
      expect(outcome(result)).toEqual(outcome(reference));
      expect(ran.map((r) => r.number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('a coordinator stopped between queueing a trial and recording it as submitted: resumed, each trial run once', async () => {
    // The first coordinator submits trials 0 and 1 (no worker runs them) and stops. Then each
    // half-written submit is made by hand: trial 0 queued but not recorded as submitted,
    // trial 1 recorded as submitted but never queued (what the earlier write order left).
    const name = 'half-submit';
    const stop = new AbortController();
    const first = runStudy({
      ...settings,
      name,
      runner: redisRunner({ url: redis.url }),
      signal: stop.signal,
    });
    const client = new Redis(redis.url);
    const { Queue } = await import('bullmq');
    const queue = new Queue('convkit-tune', {
      connection: { host: '127.0.0.1', port: redis.port },
    });
    const submittedKey = `convkit:tune:${name}:submitted`;
    const ran: TrialRecord[] = [];
    let workers: Awaited<ReturnType<typeof startWorker>>[] = [];
    try {
      await expect.poll(() => client.scard(submittedKey), { timeout: 10_000 }).toBe(2);
      stop.abort();
      expect((await first).trials).toEqual([]);
      await client.srem(submittedKey, '0');
      await (await queue.getJob(`${name}--1`))!.remove();
      workers = await Promise.all(
        [0, 1].map((i) =>
          startWorker({ url: redis.url, objective, id: `h${i}`, onTrial: (r) => ran.push(r) }),
        ),
      );
      const result = await runStudy({
        ...settings,
        name,
        runner: redisRunner({ url: redis.url }),
      });
      expect(outcome(result)).toEqual(outcome(reference));
      expect(ran.map((r) => r.number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await queue.close();
      client.disconnect();
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('a Redis restart (SIGKILL, append-only file) loses no finished trial', async () => {
    const ran: TrialRecord[] = [];
    const workers = await Promise.all(
      [0, 1].map((i) =>
        startWorker({ url: redis.url, objective, id: `w${i}`, onTrial: (r) => ran.push(r) }),
      ),
    );
    try {
      let restarted: Promise<void> | undefined;
      let finishedBefore = 0;
      const result = await runStudy({
        ...settings,
        name: 'restart',
        runner: redisRunner({ url: redis.url }),
        onTrial: () => {
          if (!restarted && ran.length >= 3) {
            finishedBefore = ran.length;
            restarted = redis.restart();
          }
        },
      });
      await restarted;
      expect(finishedBefore).toBeGreaterThanOrEqual(3);
      expect(outcome(result)).toEqual(outcome(reference));
      expect(result.duplicates).toBe(0);
      const client = new Redis(redis.url);
      try {
        expect(await client.hlen('convkit:tune:restart:results')).toBe(6);
      } finally {
        client.disconnect();
      }
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('a trial result delivered twice is recorded once (first write wins, the study counts it once)', async () => {
    // In Redis: the same trial run twice at once (as when a stalled trial's first worker was
    // only slow) is recorded by the first to finish; the second write is refused.
    const seen: [string, number, boolean][] = [];
    const workers = await Promise.all(
      [0, 1].map((i) =>
        startWorker({
          url: redis.url,
          objective,
          id: `dup${i}`,
          onTrial: (r, recorded) => seen.push([r.worker!, r.number, recorded]),
        }),
      ),
    );
    const { Queue } = await import('bullmq');
    const queue = new Queue('convkit-tune', {
      connection: { host: '127.0.0.1', port: redis.port },
    });
    const client = new Redis(redis.url);
    process.env.TUNE_EPOCH_MS = '40';
    try {
      const task = {
        study: 'dup',
        number: 0,
        params: { x: 0.5, width: 16, kind: 'a' },
        direction: 'minimize',
        pruner: { type: 'none' },
        history: [],
      };
      const jobs = await Promise.all(
        ['dup--0', 'dup--0-again'].map((jobId) => queue.add('trial', task, { jobId })),
      );
      for (const job of jobs) {
        await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('completed');
      }
      expect(seen.map(([, n, recorded]) => [n, recorded]).sort()).toEqual([
        [0, false],
        [0, true],
      ]);
      expect(new Set(seen.map(([w]) => w))).toEqual(new Set(['dup0', 'dup1']));
      const stored = JSON.parse(
        (await client.hget('convkit:tune:dup:results', '0'))!,
      ) as TrialRecord;
      expect(stored.worker).toBe(seen.find(([, , recorded]) => recorded)![0]);
      expect(await client.hlen('convkit:tune:dup:results')).toBe(1);
      // A third delivery after it is recorded is not even run.
      const third = await queue.add('trial', task, { jobId: 'dup--0-third' });
      await expect.poll(() => third.getState(), { timeout: 10_000 }).toBe('completed');
      expect((await queue.getJob('dup--0-third'))!.returnvalue).toBe('recorded before');
      expect(seen.length).toBe(2);
    } finally {
      delete process.env.TUNE_EPOCH_MS;
      await queue.close();
      client.disconnect();
      await Promise.all(workers.map((w) => w.close()));
    }
    // In the study: a runner that delivers every record twice.
    const inner = inProcessRunner(objective);
    const twice: Runner = {
      open: (meta) => inner.open(meta),
      submit: (task) => inner.submit(task),
      close: () => inner.close(),
      next: (() => {
        let held: TrialRecord | undefined;
        return async () => {
          if (held) {
            const r = held;
            held = undefined;
            return r;
          }
          held = await inner.next();
          return held;
        };
      })(),
    };
    const result = await runStudy({ ...settings, name: 'twice', runner: twice });
    expect(result.duplicates).toBe(5); // the last record's copy is never asked for
    expect(outcome(result)).toEqual(outcome(reference));
  });
});
