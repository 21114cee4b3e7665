import { describe, expect, it } from 'vitest';
import { AshaPruner } from './asha-pruner';
import { HyperbandPruner } from './hyperband-pruner';
import { MedianPruner } from './median-pruner';
import { createPruner, type PrunerSpec } from './pruner';
import { RandomSampler } from './random-sampler';
import { defineSpace, float } from './search-space';
import { runStudy } from './study';
import type { TrialRecord } from './trial';

/** A finished trial with the given per-step values (steps 1, 2, ...). */
function curve(number: number, values: number[]): TrialRecord {
  return {
    number,
    params: {},
    state: 'complete',
    value: values.at(-1),
    intermediate: values.map((v, i) => [i + 1, v]),
    seconds: 0,
  };
}

describe('MedianPruner', () => {
  const history = [1, 2, 3, 4, 5].map((v, i) => curve(i, [v + 10, v]));
  const pruner = new MedianPruner({ startupTrials: 5 });

  it('stops a trial whose best so far is worse than the median at the same step', () => {
    const ctx = (own: [number, number][]) => ({
      number: 9,
      step: own.at(-1)![0],
      intermediate: own,
      history,
      direction: 'minimize' as const,
    });
    expect(
      pruner.shouldPrune(
        ctx([
          [1, 20],
          [2, 3.5],
        ]),
      ),
    ).toBe(true);
    expect(
      pruner.shouldPrune(
        ctx([
          [1, 20],
          [2, 2.5],
        ]),
      ),
    ).toBe(false);
    // Best so far, not the last value: an earlier 2.9 keeps it alive.
    expect(
      pruner.shouldPrune(
        ctx([
          [1, 2.9],
          [2, 3.5],
        ]),
      ),
    ).toBe(false);
    // Maximizing flips the bar's side.
    expect(
      pruner.shouldPrune({
        ...ctx([
          [1, 0],
          [2, 3.5],
        ]),
        direction: 'maximize',
      }),
    ).toBe(false);
    expect(
      pruner.shouldPrune({
        ...ctx([
          [1, 0],
          [2, 2.5],
        ]),
        direction: 'maximize',
      }),
    ).toBe(true);
  });

  it('waits for startup trials and warmup steps', () => {
    const few = history.slice(0, 4);
    expect(
      pruner.shouldPrune({
        number: 9,
        step: 2,
        intermediate: [[2, 100]],
        history: few,
        direction: 'minimize',
      }),
    ).toBe(false);
    const warm = new MedianPruner({ startupTrials: 1, warmupSteps: 2 });
    expect(
      warm.shouldPrune({
        number: 9,
        step: 2,
        intermediate: [[2, 100]],
        history,
        direction: 'minimize',
      }),
    ).toBe(false);
    expect(() => new MedianPruner({ percentile: 120 })).toThrow(
      /percentile must be <= 100, received 120/,
    );
  });
});

describe('AshaPruner', () => {
  it('keeps the best 1/η at each rung, among the trials that reached it', () => {
    const asha = new AshaPruner({ minResource: 1, reductionFactor: 3 });
    expect([0, 1, 2].map((k) => asha.rung(k))).toEqual([1, 3, 9]);
    const history = [curve(0, [0.5]), curve(1, [0.7, 0.72, 0.8])];
    const at = (values: number[], h = history) =>
      asha.shouldPrune({
        number: 5,
        step: values.length,
        intermediate: values.map((v, i) => [i + 1, v] as [number, number]),
        history: h,
        direction: 'maximize',
      });
    // Rung 1: 3 trials -> keep 1: 0.6 loses to 0.7, 0.75 wins.
    expect(at([0.6])).toBe(true);
    expect(at([0.75])).toBe(false);
    // Step 2 is no rung: never pruned there.
    expect(at([0.75, 0.1])).toBe(false);
    // Rung 3: only trial 1 reached it (0.8): 2 trials -> keep 1.
    expect(at([0.75, 0.76, 0.79])).toBe(true);
    expect(at([0.75, 0.76, 0.81])).toBe(false);
    // Alone at a rung, a trial always continues.
    expect(at([0.1], [])).toBe(false);
  });

  it('on synthetic learning curves: keeps the best trial, spends a fraction of the epochs', async () => {
    // 27 trials, each a saturating curve acc(t) = q (1 - exp(-t / 4)) with quality q from the
    // params; 27 epochs each without pruning.
    const space = defineSpace({ q: float(0.3, 0.95) });
    const epochsOf: Record<string, number> = {};
    const run = (pruner: PrunerSpec) =>
      runStudy({
        space,
        trials: 27,
        seed: 11,
        direction: 'maximize',
        sampler: new RandomSampler(),
        pruner,
        objective: (trial) => {
          let acc = 0;
          for (let epoch = 1; epoch <= 27; epoch++) {
            epochsOf[`${JSON.stringify(pruner)}:${trial.number}`] = epoch;
            acc = trial.params.q * (1 - Math.exp(-epoch / 4));
            if (trial.report(epoch, acc)) break;
          }
          return acc;
        },
      });
    const full = await run({ type: 'none' });
    const asha = await run({ type: 'asha', minResource: 1, reductionFactor: 3 });
    const spent = (spec: PrunerSpec) =>
      Object.entries(epochsOf)
        .filter(([k]) => k.startsWith(JSON.stringify(spec)))
        .reduce((a, [, v]) => a + v, 0);
    expect(spent({ type: 'none' })).toBe(27 * 27);
    const ashaEpochs = spent({ type: 'asha', minResource: 1, reductionFactor: 3 });
    expect(ashaEpochs).toBeLessThan(0.4 * 27 * 27);
    expect(asha.best!.number).toBe(full.best!.number);
    expect(asha.best!.value).toBe(full.best!.value);
    const pruned = asha.trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBeGreaterThan(10);
    // Every pruned trial stopped at a rung (1, 3 or 9), and its reported value is its last.
    for (const t of pruned) {
      expect([1, 3, 9]).toContain(t.intermediate.at(-1)![0]);
      expect(t.value).toBe(t.intermediate.at(-1)![1]);
    }
  });
});

describe('HyperbandPruner', () => {
  it('builds brackets from aggressive to none and allocates trials by number', () => {
    const hb = new HyperbandPruner({ minResource: 1, maxResource: 27, reductionFactor: 3 });
    expect(hb.brackets.map((b) => b.rung(0))).toEqual([1, 3, 9, 27]);
    // Hyperband's n_s = ceil((s_max + 1) / (s + 1) * η^s) for s = 3, 2, 1, 0.
    expect(hb.allocation).toEqual([27, 12, 6, 4]);
    expect(hb.bracketOf(0)).toBe(0);
    expect(hb.bracketOf(27)).toBe(1);
    expect(hb.bracketOf(45)).toBe(3);
    expect(hb.bracketOf(49)).toBe(0);
  });

  it('compares a trial only with trials of its bracket', () => {
    const hb = new HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 3 });
    // Brackets: [9, 5, 3] trials; trial 9 is in bracket 1 (first rung at 3).
    expect(hb.bracketOf(9)).toBe(1);
    const strong = [0, 1, 2].map((n) => curve(n, [0.9, 0.9, 0.9])); // bracket 0
    const weak = [curve(10, [0.1, 0.1, 0.1]), curve(11, [0.2, 0.2, 0.2])]; // bracket 1
    const ctx = (history: TrialRecord[]) => ({
      number: 9,
      step: 3,
      intermediate: [
        [1, 0.5],
        [2, 0.5],
        [3, 0.5],
      ] as [number, number][],
      history,
      direction: 'maximize' as const,
    });
    expect(hb.shouldPrune(ctx([...strong, ...weak]))).toBe(false);
    expect(hb.shouldPrune(ctx([...weak, curve(12, [0.6, 0.6, 0.6])]))).toBe(true);
    expect(() => new HyperbandPruner({ maxResource: 0 })).toThrow(
      /maxResource must be a number >= 1, received 0/,
    );
  });

  it('createPruner names an unknown type', () => {
    expect(() => createPruner({ type: 'patience' } as any)).toThrow(
      /pruner.type must be .* received "patience"/,
    );
  });
});
