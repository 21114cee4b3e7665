import type { Worker } from 'bullmq';
import { connect, studyKeys } from './internal/redis';
import { workerId } from './internal/worker-id';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, DEFAULT_REDIS_URL } from './redis-runner';
import { executeTrial, type Objective, type TrialRecord, type TrialTask } from './trial';

export interface StartWorkerOptions {
  /** The objective this worker runs (the same one on every worker of a study). */
  objective: Objective<never>;
  /** Redis URL (default `redis://127.0.0.1:6379`). */
  url?: string;
  queue?: string;
  prefix?: string;
  /** Name in trial records (default `host:pid`). */
  id?: string;
  /**
   * BullMQ's job lock: a worker that stops renewing it (killed, or its event loop blocked for
   * this long) loses the trial, which another worker then runs again. Default 30 000 ms.
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled trials (default 30 000 ms). */
  stalledIntervalMs?: number;
  /** Times a trial may stall and be run again before it is failed (default 2). */
  maxStalledCount?: number;
  /** Called after each trial this worker finished (recorded says whether its result counted). */
  onTrial?: (record: TrialRecord, recorded: boolean) => void;
}

export interface TuneWorker {
  readonly id: string;
  /** Stop taking trials; waits for the running trial to finish. */
  close(): Promise<void>;
}

/**
 * A worker process for `redisRunner` studies: takes trials from the BullMQ queue one at a time,
 * runs the objective, and records the result in the study's Redis hash keyed by trial number
 * (HSETNX: a trial run twice after a stall is counted once). The objective must yield to the
 * event loop now and then (`fit` does, between batches) so the job lock is renewed.
 */
export async function startWorker(options: StartWorkerOptions): Promise<TuneWorker> {
  if (typeof options.objective !== 'function') {
    throw new Error(
      `startWorker: objective must be a function, received ${typeof options.objective}`,
    );
  }
  const { Worker } = await import('bullmq');
  const id = options.id ?? (await workerId());
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const redis = await connect(options.url ?? DEFAULT_REDIS_URL);
  const objective = options.objective as Objective;
  const worker: Worker = new Worker(
    options.queue ?? DEFAULT_QUEUE,
    async (job) => {
      const task = job.data as TrialTask;
      const keys = studyKeys(prefix, task.study);
      // Already recorded (this job ran before a stall): do not run it again.
      if ((await redis.hexists(keys.results, String(task.number))) === 1) return 'recorded before';
      const record = await executeTrial(task, objective, id);
      const recorded =
        (await redis.hsetnx(keys.results, String(task.number), JSON.stringify(record))) === 1;
      options.onTrial?.(record, recorded);
      return recorded ? 'recorded' : 'recorded before';
    },
    {
      connection: redis,
      concurrency: 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      removeOnComplete: { count: 100_000 },
    },
  );
  worker.on('error', () => {
    // Connection errors while Redis restarts: ioredis reconnects and BullMQ carries on.
  });
  await worker.waitUntilReady();
  return {
    id,
    async close() {
      await worker.close();
      if (redis.status !== 'end') await redis.quit().catch(() => redis.disconnect());
    },
  };
}
