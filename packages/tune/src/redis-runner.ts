import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connect, jobId, studyKeys } from './internal/redis';
import type { OpenedStudy, Runner, StudyMeta } from './runner';
import type { TrialRecord, TrialTask } from './trial';

export interface RedisRunnerOptions {
  /** Redis URL (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** BullMQ queue name shared with the workers (default 'convkit-tune'). */
  queue?: string;
  /** Prefix of the study's own keys (default 'convkit:tune'). */
  prefix?: string;
  /** How often finished trials are polled, in ms (default 100). */
  pollIntervalMs?: number;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE = 'convkit-tune';
export const DEFAULT_PREFIX = 'convkit:tune';

/**
 * Runs trials on any number of worker processes (`startWorker`), on any machines that reach
 * the Redis server, through a BullMQ queue. The study's settings, the trials submitted and
 * every finished trial are kept in Redis, so a coordinator that restarts with the same study
 * name picks up where it was: finished trials are not run again, queued ones are not queued
 * twice. Workers record results keyed by trial number, first write wins.
 */
export function redisRunner(options: RedisRunnerOptions = {}): Runner {
  const url = options.url ?? DEFAULT_REDIS_URL;
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const pollMs = options.pollIntervalMs ?? 100;
  let redis: Redis;
  let queue: Queue;
  let keys: ReturnType<typeof studyKeys>;
  let study: string;
  const waiting = new Set<number>();
  const ready: TrialRecord[] = [];
  let lastStateCheck = 0;
  let closed = false;

  /** Record a trial whose job BullMQ gave up on (it stalled too often). */
  const checkFailedJobs = async () => {
    for (const number of waiting) {
      const job = await queue.getJob(jobId(study, number));
      const state = job ? await job.getState() : 'missing';
      if (state !== 'failed' && state !== 'missing') continue;
      const record: TrialRecord = {
        number,
        params: job?.data?.params ?? {},
        state: 'failed',
        intermediate: [],
        error:
          state === 'missing'
            ? 'the job is gone from the queue'
            : `job failed: ${job!.failedReason}`,
        seconds: 0,
      };
      await redis.hsetnx(keys.results, String(number), JSON.stringify(record));
    }
  };

  return {
    async open(meta: StudyMeta): Promise<OpenedStudy> {
      const { Queue } = await import('bullmq');
      study = meta.name;
      keys = studyKeys(prefix, study);
      redis = await connect(url);
      queue = new Queue(queueName, { connection: redis });
      const stored = JSON.stringify(meta);
      const previous = await redis.get(keys.meta);
      if (previous === null) {
        await redis.set(keys.meta, stored);
      } else if (previous !== stored) {
        const before = JSON.parse(previous) as Record<string, unknown>;
        const changed = Object.keys(meta).filter(
          (k) =>
            JSON.stringify(before[k]) !==
            JSON.stringify((meta as unknown as Record<string, unknown>)[k]),
        );
        await this.close();
        throw new Error(
          `redisRunner: study '${study}' exists in Redis with other settings (${changed.join(', ')}); use another name to start afresh`,
        );
      }
      const finished = Object.values(await redis.hgetall(keys.results)).map(
        (v) => JSON.parse(v) as TrialRecord,
      );
      const done = new Set(finished.map((r) => r.number));
      const submitted = (await redis.smembers(keys.submitted)).map(Number);
      const pending: number[] = [];
      for (const n of submitted.filter((m) => !done.has(m))) {
        if (await queue.getJob(jobId(study, n))) {
          pending.push(n);
        } else {
          // Submitted but never queued (a coordinator stopped between the two writes before
          // submit queued first): forget it, and the study samples it again, with the same
          // params, since sampling depends only on the seed and the finished trials.
          await redis.srem(keys.submitted, String(n));
        }
      }
      for (const n of pending) waiting.add(n);
      return { finished, pending };
    },

    async submit(task: TrialTask) {
      waiting.add(task.number);
      // The job first: a coordinator stopped between the two writes leaves a queued job that
      // is not in `submitted`; its successor samples the same trial and adds the same job id,
      // which BullMQ ignores.
      await queue.add('trial', task, {
        jobId: jobId(task.study, task.number),
        removeOnComplete: false,
        removeOnFail: false,
      });
      await redis.sadd(keys.submitted, String(task.number));
    },

    async next(): Promise<TrialRecord> {
      while (!closed) {
        if (ready.length > 0) return ready.shift()!;
        if (waiting.size > 0) {
          const numbers = [...waiting];
          const values = await redis.hmget(keys.results, ...numbers.map(String));
          values.forEach((v, i) => {
            if (v === null) return;
            waiting.delete(numbers[i]);
            ready.push(JSON.parse(v) as TrialRecord);
          });
          if (ready.length > 0) continue;
          if (Date.now() - lastStateCheck > 10 * pollMs) {
            lastStateCheck = Date.now();
            await checkFailedJobs();
          }
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
      // Closed (the study was aborted while waiting): never settles.
      return new Promise<TrialRecord>(() => {});
    },

    async close() {
      closed = true;
      await queue?.close();
      if (redis && redis.status !== 'end') await redis.quit().catch(() => redis.disconnect());
    },
  };
}
