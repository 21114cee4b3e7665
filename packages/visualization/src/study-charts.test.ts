import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RandomSource } from '@convkit/backend';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './charts';
import { svgToPng } from './render-node';
import {
  optimizationHistorySpec,
  parallelCoordinatesSpec,
  parameterImportance,
  parameterImportanceSpec,
  runningBest,
  type TrialLike,
} from './study-charts';

/**
 * 60 synthetic trials: `lr` (log-uniform) drives the objective, `optimizer` adds a small
 * effect, `noise` does nothing; every fifth trial pruned, trial 7 failed; `momentum` exists
 * only for sgd.
 */
function syntheticTrials(n = 60): TrialLike[] {
  const random = new RandomSource(3);
  return Array.from({ length: n }, (_, number) => {
    const lr = 10 ** random.uniform(-4, -1);
    const optimizer = random.uniform(0, 1) < 0.5 ? 'sgd' : 'adam';
    const noise = random.uniform(0, 1);
    const params: Record<string, string | number> = { lr, optimizer, noise };
    if (optimizer === 'sgd') params.momentum = random.uniform(0.5, 0.99);
    const value =
      (Math.log10(lr) + 2.5) ** 2 + (optimizer === 'sgd' ? 0.15 : 0) + random.normal(0, 0.05);
    if (number === 7) return { number, params, state: 'failed' };
    if (number % 5 === 4) return { number, params, state: 'pruned', value: value + 1 };
    return { number, params, state: 'complete', value };
  });
}

/** Where PNGs go when STUDY_CHARTS_PNG_DIR is set (to look at them); otherwise nowhere. */
async function maybeWrite(name: string, png: Uint8Array) {
  const dir = process.env.STUDY_CHARTS_PNG_DIR;
  if (dir) writeFileSync(join(dir, name), png);
}

describe('study charts', () => {
  const trials = syntheticTrials();

  it('runningBest follows the best complete value in trial order', () => {
    const t: TrialLike[] = [
      { number: 0, params: { a: 1 }, value: 3 },
      { number: 1, params: { a: 2 }, value: 5 },
      { number: 2, params: { a: 3 }, state: 'pruned', value: 0 },
      { number: 3, params: { a: 4 }, value: 1 },
    ];
    expect(runningBest(t)).toEqual([
      { number: 0, best: 3 },
      { number: 1, best: 3 },
      { number: 3, best: 1 },
    ]);
    expect(runningBest(t, 'maximize').map((b) => b.best)).toEqual([3, 5, 5]);
  });

  it('parameter importance finds the parameter that drives the objective, not the noise', () => {
    const importance = parameterImportance(trials);
    const by = Object.fromEntries(importance.map((r) => [r.param, r]));
    expect(importance[0].param).toBe('lr');
    expect(by.lr.importance).toBeGreaterThan(0.8);
    expect(by.lr.effect).toBeGreaterThan(0.7);
    expect(by.noise.importance).toBeLessThan(0.1);
    expect(by.noise.effect).toBeLessThan(0.08);
    // Only complete trials count; momentum only where it was active (sgd).
    const complete = trials.filter((t) => (t.state ?? 'complete') === 'complete');
    expect(by.lr.trials).toBe(complete.length);
    expect(by.lr.groups).toBe(4);
    expect(by.optimizer.groups).toBe(2);
    expect(by.momentum.trials).toBe(complete.filter((t) => t.params.optimizer === 'sgd').length);
    expect(importance.reduce((a, r) => a + r.importance, 0)).toBeCloseTo(1, 12);
  });

  it('parameter importance is a one-way ANOVA: exact values on a small case', () => {
    // Groups a: [1, 3] (mean 2) and b: [5, 7] (mean 6); grand mean 4.
    // SST = 9 + 1 + 1 + 9 = 20, SSB = 2*4 + 2*4 = 16, SSW = 4, MSW = 4 / (4 - 2) = 2.
    const t: TrialLike[] = [
      { params: { c: 'a', d: 1 }, value: 1 },
      { params: { c: 'a', d: 2 }, value: 3 },
      { params: { c: 'b', d: 1 }, value: 5 },
      { params: { c: 'b', d: 2 }, value: 7 },
    ];
    const [c, d] = parameterImportance(t);
    expect(c.param).toBe('c');
    expect(c.etaSquared).toBeCloseTo(16 / 20, 12);
    expect(c.effect).toBeCloseTo((16 - 1 * 2) / 20, 12);
    // d: groups [1, 5] and [3, 7], both mean 3 and 5: SSB = 2*1 + 2*1 = 4, MSW = 16 / 2 = 8.
    expect(d.etaSquared).toBeCloseTo(4 / 20, 12);
    expect(d.effect).toBe(0); // (4 - 8) / 20 < 0, floored
    expect(c.importance).toBe(1);
    // One trial per group: no within-group variance, so no effect can be told from chance.
    const [u] = parameterImportance([
      { params: { u: 1 }, value: 1 },
      { params: { u: 2 }, value: 2 },
    ]);
    expect([u.etaSquared, u.effect, u.importance]).toEqual([1, 0, 0]);
  });

  it('the three specs compile with vega-lite, carry the right values and render to PNG', async () => {
    const history = optimizationHistorySpec(trials, { objective: 'val loss' });
    const [points, best] = (history.layer as { data: { values: Record<string, unknown>[] } }[]).map(
      (l) => l.data.values,
    );
    expect(points).toHaveLength(trials.length - 1); // the failed trial has no value
    expect(points.find((p) => p.trial === 4)).toMatchObject({ state: 'pruned' });
    expect(best.map((b) => b.best)).toEqual(runningBest(trials).map((b) => b.best));
    expect(best.at(-1)?.best).toBe(
      Math.min(...trials.filter((t) => t.state === 'complete').map((t) => t.value!)),
    );

    const parallel = parallelCoordinatesSpec(trials, {
      params: ['lr', 'optimizer', 'momentum', 'noise'],
    });
    const lines = (parallel.layer as { data: { values: Record<string, unknown>[] } }[])[1].data
      .values;
    const complete = trials.filter((t) => t.state === 'complete');
    const sgd = complete.filter((t) => t.params.optimizer === 'sgd').length;
    expect(lines).toHaveLength(complete.length * 4);
    expect(lines.filter((r) => r.position !== null)).toHaveLength(complete.length * 3 + sgd);
    // Drawn worst first: the last line is the best trial's.
    expect(lines.at(-1)!.value).toBe(Math.min(...complete.map((t) => t.value!)));
    // lr spans 1e-4..1e-1 (more than 100x): a log axis, positions in [0, 1] with both ends used.
    const lr = lines.filter((r) => r.param === 'lr').map((r) => r.position as number);
    expect(Math.min(...lr)).toBe(0);
    expect(Math.max(...lr)).toBe(1);
    const lrs = complete.map((t) => t.params.lr as number);
    const geo = Math.sqrt(Math.min(...lrs) * Math.max(...lrs));
    const mid = complete.reduce((a, t) =>
      Math.abs(Math.log((t.params.lr as number) / geo)) <
      Math.abs(Math.log((a.params.lr as number) / geo))
        ? t
        : a,
    );
    const midRow = lines.find((r) => r.param === 'lr' && r.trial === mid.number)!;
    expect(midRow.position as number).toBeCloseTo(
      Math.log((mid.params.lr as number) / Math.min(...lrs)) /
        Math.log(Math.max(...lrs) / Math.min(...lrs)),
      12,
    );
    for (const t of complete) {
      const row = (param: string) => lines.find((r) => r.param === param && r.trial === t.number)!;
      expect(row('optimizer').position).toBe(t.params.optimizer === 'adam' ? 0 : 1);
      expect(row('momentum').position === null).toBe(t.params.optimizer === 'adam');
    }

    const importance = parameterImportanceSpec(trials);
    expect((importance.data as { values: { param: string }[] }).values[0].param).toBe('lr');
    expect((importance.title as { subtitle: string }).subtitle).toBe('from 47 complete trial(s)');
    const none = parameterImportanceSpec([
      { params: { u: 1 }, value: 1 },
      { params: { u: 2 }, value: 2 },
    ]);
    expect((none.title as { subtitle: string }).subtitle).toBe(
      'no parameter explains more than chance in 2 complete trial(s)',
    );

    for (const [name, spec] of [
      ['optimization-history.png', history],
      ['parallel-coordinates.png', parallel],
      ['parameter-importance.png', importance],
    ] as const) {
      const svg = await renderChartSvg(spec);
      expect(svg).toMatch(/^<svg/);
      const bytes = await svgToPng(svg);
      const png = decode(bytes);
      expect(png.width).toBeGreaterThan(200);
      await maybeWrite(name, bytes);
    }
  });

  it('bad input is refused with a message naming the field', () => {
    expect(() => optimizationHistorySpec('x' as never)).toThrow(
      "optimizationHistorySpec: argument 'trials' must be an array of trial records; received string",
    );
    expect(() => optimizationHistorySpec([{ params: { a: 1 }, state: 'complete' }])).toThrow(
      'optimizationHistorySpec: trials[0].value must be a finite number in a complete trial; received undefined',
    );
    expect(() => optimizationHistorySpec([{ params: { a: 1 }, value: Number.NaN }])).toThrow(
      'trials[0].value must be a finite number in a complete trial; received null',
    );
    expect(() => optimizationHistorySpec([{ params: { a: 1 }, value: 1, state: 'done' }])).toThrow(
      `trials[0].state must be 'complete', 'pruned' or 'failed'; received "done"`,
    );
    expect(() => optimizationHistorySpec([{ params: { a: 1 }, state: 'failed' }])).toThrow(
      'optimizationHistorySpec: expected at least one complete trial with a value; received 1 trial(s), none complete',
    );
    expect(() => optimizationHistorySpec(trials, { direction: 'up' as never })).toThrow(
      `option 'direction' must be 'minimize' or 'maximize'; received "up"`,
    );
    expect(() => parallelCoordinatesSpec(trials, { params: ['lr', 'depth'] })).toThrow(
      "parallelCoordinatesSpec: option 'params' names 'depth', which no trial has; the trials have lr, optimizer, noise, momentum",
    );
    expect(() => parallelCoordinatesSpec([{ params: { a: [1] as never }, value: 1 }])).toThrow(
      'parallelCoordinatesSpec: trials[0].params.a must be a finite number, a string or a boolean; received [1]',
    );
    expect(() => parallelCoordinatesSpec([{ params: null as never, value: 1 }])).toThrow(
      "trials[0] must be an object with a 'params' object",
    );
    expect(() => parameterImportance(trials, { bins: 1 })).toThrow(
      "parameterImportance: option 'bins' must be an integer >= 2; received 1",
    );
    expect(() => parameterImportance([{ params: {}, value: 1 }])).toThrow(
      'parameterImportance: the trials have no parameters',
    );
  });
});
