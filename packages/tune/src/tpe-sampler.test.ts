import { describe, expect, it } from 'vitest';
import { RandomSampler } from './random-sampler';
import { choice, defineSpace, float, int } from './search-space';
import { runStudy } from './study';
import { TpeSampler } from './tpe-sampler';

// A cheap synthetic objective over the kinds of parameters a CNN search has: a log-scale
// learning rate, an integer width, a float, a choice, and a conditional momentum.
const space = defineSpace({
  lr: float(1e-5, 1, { log: true }),
  units: int(8, 256),
  dropout: float(0, 0.8),
  optimizer: choice(['sgd', 'adam', 'rmsprop']),
  momentum: float(0, 0.99, { when: { param: 'optimizer', equals: 'sgd' } }),
});
type P = { lr: number; units: number; dropout: number; optimizer: string; momentum?: number };
function synthetic(p: P): number {
  const lr = (Math.log10(p.lr) + 2.5) ** 2;
  const units = ((p.units - 120) / 60) ** 2;
  const dropout = 4 * (p.dropout - 0.3) ** 2;
  const opt =
    p.optimizer === 'adam' ? 0 : p.optimizer === 'sgd' ? 0.3 + (p.momentum! - 0.9) ** 2 : 0.6;
  return lr + units + dropout + opt;
}

async function bestOf(sampler: TpeSampler | RandomSampler, seed: number, trials: number) {
  const result = await runStudy({
    space,
    trials,
    seed,
    sampler,
    objective: (trial) => synthetic(trial.params as P),
  });
  return result.best!.value!;
}

describe('TpeSampler', () => {
  it('finds better points than random search on a synthetic objective (10 seeds, 100 trials)', async () => {
    const seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const tpe: number[] = [];
    const random: number[] = [];
    for (const seed of seeds) {
      tpe.push(await bestOf(new TpeSampler(), seed, 100));
      random.push(await bestOf(new RandomSampler(), seed, 100));
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const median = (v: number[]) => {
      const s = [...v].sort((a, b) => a - b);
      return (s[4] + s[5]) / 2;
    };
    const wins = tpe.filter((v, i) => v < random[i]).length;
    console.log(
      `best of 100 trials, per seed: TPE ${tpe.map((v) => v.toFixed(3))} (mean ${mean(tpe).toFixed(3)}, median ${median(tpe).toFixed(3)}), random ${random.map((v) => v.toFixed(3))} (mean ${mean(random).toFixed(3)}, median ${median(random).toFixed(3)}); TPE better on ${wins} of 10 seeds`,
    );
    // TPE can lock onto a wrong category early (seeds 1 and 8 here), as Optuna's can; it still
    // wins on most seeds and by a wide margin in the typical (median) case.
    expect(median(tpe)).toBeLessThan(median(random) / 3);
    expect(mean(tpe)).toBeLessThan(mean(random) / 2);
    expect(wins).toBeGreaterThanOrEqual(6);
  });

  it('is deterministic for a seed and uses its first trials for random exploration', async () => {
    const a = await runStudy({
      space,
      trials: 15,
      seed: 7,
      objective: (t) => synthetic(t.params as P),
    });
    const b = await runStudy({
      space,
      trials: 15,
      seed: 7,
      objective: (t) => synthetic(t.params as P),
    });
    expect(a.trials.map((t) => t.params)).toEqual(b.trials.map((t) => t.params));
    const r = await runStudy({
      space,
      trials: 10,
      seed: 7,
      sampler: new RandomSampler(),
      objective: (t) => synthetic(t.params as P),
    });
    expect(a.trials.slice(0, 10).map((t) => t.params)).toEqual(r.trials.map((t) => t.params));
    for (const t of a.trials) space.check(t.params);
  });

  it('rejects bad options by name', () => {
    expect(() => new TpeSampler({ startupTrials: 0 })).toThrow(
      /startupTrials must be a positive integer, received 0/,
    );
    expect(() => new TpeSampler({ priorWeight: -1 })).toThrow(/priorWeight/);
  });
});
