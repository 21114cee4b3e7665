import type { Worker } from 'node:worker_threads';
import { importOptional } from '@convkit/backend';
import { Channel } from './internal/channel';
import { moduleUrl } from './internal/worker-id';
import type { OpenedStudy, Runner } from './runner';
import type { TrialRecord, TrialTask } from './trial';

export interface ThreadRunnerOptions {
  /** Worker threads (parallel trials on this machine). */
  size: number;
  /**
   * The module each thread loads (path or file URL): it exports the objective as `objective`
   * (or default, or `exportName`), and optionally `setup()`, run once per thread (select the
   * thread's tfjs backend there).
   */
  module: string | URL;
  exportName?: string;
  /** The thread entry script (default: the built package's `thread-worker.js`). */
  entry?: string | URL;
  /** Times a trial whose thread died is run again on a fresh thread (default 1). */
  retries?: number;
}

interface Slot {
  worker: Worker;
  task?: TrialTask;
}

/**
 * Runs trials on a pool of `worker_threads`, one trial per thread at a time. A thread that
 * dies mid-trial is replaced and its trial run again (up to `retries` times, then recorded as
 * failed).
 */
export function threadRunner(options: ThreadRunnerOptions): Runner {
  const { size } = options;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`threadRunner: size must be a positive integer, received ${size}`);
  }
  const retries = options.retries ?? 1;
  const done = new Channel<TrialRecord>();
  const queue: TrialTask[] = [];
  const attempts = new Map<number, number>();
  let slots: Slot[] = [];
  let closed = false;
  let spawn: () => Promise<Slot>;

  const dispatch = () => {
    for (const slot of slots) {
      if (slot.task || queue.length === 0) continue;
      slot.task = queue.shift()!;
      slot.worker.postMessage(slot.task);
    }
  };

  const lost = async (slot: Slot, why: string) => {
    slots = slots.filter((s) => s !== slot);
    if (closed) return;
    const task = slot.task;
    if (task) {
      const tries = (attempts.get(task.number) ?? 0) + 1;
      attempts.set(task.number, tries);
      if (tries > retries) {
        done.push({
          number: task.number,
          params: task.params,
          state: 'failed',
          intermediate: [],
          error: `worker thread lost ${tries} times: ${why}`,
          seconds: 0,
        });
      } else queue.unshift(task);
    }
    try {
      slots.push(await spawn());
      dispatch();
    } catch (error) {
      done.fail(error);
    }
  };

  return {
    async open(): Promise<OpenedStudy> {
      const { Worker } =
        await importOptional<typeof import('node:worker_threads')>('node:worker_threads');
      const { existsSync } = await importOptional<typeof import('node:fs')>('node:fs');
      const { fileURLToPath } = await importOptional<typeof import('node:url')>('node:url');
      const entry = options.entry
        ? new URL(await moduleUrl(options.entry))
        : new URL('./thread-worker.js', import.meta.url);
      if (entry.protocol === 'file:' && !existsSync(fileURLToPath(entry))) {
        throw new Error(
          `threadRunner: no thread entry at ${fileURLToPath(entry)} (run from the built package, or pass entry)`,
        );
      }
      const workerData = {
        moduleUrl: await moduleUrl(options.module),
        exportName: options.exportName ?? 'objective',
      };
      spawn = () =>
        new Promise<Slot>((resolve, reject) => {
          const worker = new Worker(entry, { workerData });
          const slot: Slot = { worker };
          let ready = false;
          worker.on('message', (message: { type: string; record?: TrialRecord }) => {
            if (message.type === 'ready') {
              ready = true;
              resolve(slot);
            } else if (message.type === 'done') {
              slot.task = undefined;
              done.push(message.record!);
              dispatch();
            }
          });
          worker.on('error', (error) => {
            if (!ready)
              reject(new Error(`threadRunner: a thread failed to start: ${error.message}`));
            else void lost(slot, error.message);
          });
          worker.on('exit', (code) => {
            if (!ready)
              reject(new Error(`threadRunner: a thread exited (${code}) before it was ready`));
            else if (slots.includes(slot)) void lost(slot, `exit code ${code}`);
          });
        });
      const started = await Promise.allSettled(Array.from({ length: size }, () => spawn()));
      slots = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failure = started.find((s) => s.status === 'rejected');
      if (failure) {
        await this.close();
        throw (failure as PromiseRejectedResult).reason;
      }
      return { finished: [], pending: [] };
    },
    async submit(task: TrialTask) {
      queue.push(task);
      dispatch();
    },
    next: () => done.take(),
    async close() {
      closed = true;
      const all = slots;
      slots = [];
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
