import { describe, expect, it } from 'vitest';
import { executeTrial, TrialPruned, type TrialTask } from './trial';

const task: TrialTask = {
  study: 's',
  number: 3,
  params: { x: 1 },
  direction: 'minimize',
  pruner: { type: 'none' },
  history: [],
};

describe('executeTrial', () => {
  it('records complete, pruned and failed trials without throwing', async () => {
    const ok = await executeTrial(
      task,
      (t) => {
        t.report(1, 0.5);
        t.report(2, 0.25);
        return 0.2;
      },
      'w1',
    );
    expect(ok).toMatchObject({
      number: 3,
      state: 'complete',
      value: 0.2,
      worker: 'w1',
      params: { x: 1 },
    });
    expect(ok.intermediate).toEqual([
      [1, 0.5],
      [2, 0.25],
    ]);
    const pruned = await executeTrial(task, (t) => {
      t.report(1, 0.5);
      throw new TrialPruned();
    });
    expect(pruned).toMatchObject({ state: 'pruned', value: 0.5 });
    const failed = await executeTrial(task, () => {
      throw new Error('out of memory');
    });
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/out of memory/);
    const nan = await executeTrial(task, () => Number.NaN);
    expect(nan).toMatchObject({
      state: 'failed',
      error: 'the objective returned NaN, not a finite number',
    });
  });

  it('rejects bad reports by name', async () => {
    const r1 = await executeTrial(task, (t) => {
      t.report(2, 1);
      t.report(2, 1);
      return 1;
    });
    expect(r1.error).toMatch(/steps must increase, received 2 after 2/);
    const r2 = await executeTrial(task, (t) => {
      t.report(1, Number.POSITIVE_INFINITY);
      return 1;
    });
    expect(r2.error).toMatch(/value must be a finite number, received Infinity at step 1/);
  });
});
