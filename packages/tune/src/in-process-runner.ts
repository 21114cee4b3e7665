import { Channel } from './internal/channel';
import type { OpenedStudy, Runner } from './runner';
import { executeTrial, type Objective, type TrialRecord, type TrialTask } from './trial';

/** Runs trials one at a time in this process, in the order submitted. */
export function inProcessRunner<P>(objective: Objective<P>): Runner {
  if (typeof objective !== 'function') {
    throw new Error(`inProcessRunner: objective must be a function, received ${typeof objective}`);
  }
  const done = new Channel<TrialRecord>();
  let chain: Promise<void> = Promise.resolve();
  return {
    async open(): Promise<OpenedStudy> {
      return { finished: [], pending: [] };
    },
    async submit(task: TrialTask) {
      chain = chain.then(async () => done.push(await executeTrial(task, objective, 'in-process')));
    },
    next: () => done.take(),
    async close() {
      await chain;
    },
  };
}
