import { describe, expect, it } from 'vitest';
import { resultsTable } from './results-table';
import type { StudyResult } from './study';

const study: StudyResult = {
  name: 's',
  direction: 'maximize',
  duplicates: 0,
  stop: 'completed',
  trials: [
    {
      number: 0,
      params: { lr: 0.0123456, opt: 'sgd', momentum: 0.9 },
      state: 'complete',
      value: 0.81234,
      intermediate: [
        [1, 0.7],
        [2, 0.81234],
      ],
      seconds: 1.25,
    },
    {
      number: 1,
      params: { lr: 0.1, opt: 'adam' },
      state: 'pruned',
      value: 0.3,
      intermediate: [[1, 0.3]],
      seconds: 0.5,
    },
    {
      number: 2,
      params: { lr: 0.001, opt: 'adam' },
      state: 'complete',
      value: 0.9,
      intermediate: [
        [1, 0.8],
        [2, 0.9],
      ],
      seconds: 1,
    },
    {
      number: 3,
      params: { lr: 1, opt: 'adam' },
      state: 'failed',
      intermediate: [],
      error: 'NaN',
      seconds: 0.1,
    },
  ],
  best: undefined,
};
study.best = study.trials[2];

describe('resultsTable', () => {
  it('lists trials with every parameter and names the best configuration', () => {
    expect(resultsTable(study, { sortBy: 'value' })).toBe(
      [
        '| trial | state | value | steps | seconds | lr | opt | momentum |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        '| 2 | complete | 0.9 | 2 | 1.0 | 0.001 | adam |  |',
        '| 0 | complete | 0.8123 | 2 | 1.3 | 0.01235 | sgd | 0.9 |',
        '| 1 | pruned | 0.3 | 1 | 0.5 | 0.1 | adam |  |',
        '| 3 | failed |  |  | 0.1 | 1 | adam |  |',
        '',
        '4 trials (2 complete, 1 pruned, 1 failed).',
        'Best: trial 2, value 0.9 (maximize), {"lr":0.001,"opt":"adam"}',
      ].join('\n'),
    );
    const first = resultsTable(study, { limit: 1 }).split('\n');
    expect(first[2]).toMatch(/^\| 0 \| complete/);
    expect(first[3]).toBe('');
  });
});
