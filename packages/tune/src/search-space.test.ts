import { RandomSource } from '@convkit/backend';
import { describe, expect, it } from 'vitest';
import { GridSampler } from './grid-sampler';
import { RandomSampler } from './random-sampler';
import { boolean, choice, defineSpace, float, int } from './search-space';
import { trialRandom } from './study';

const space = defineSpace({
  filters: int(4, 64, { step: 4 }),
  units: int(16, 512, { log: true }),
  lr: float(1e-4, 1e-1, { log: true }),
  dropout: float(0, 0.5),
  optimizer: choice(['sgd', 'adam']),
  momentum: float(0.5, 0.99, { when: { param: 'optimizer', equals: 'sgd' } }),
  nesterov: boolean({ when: { param: 'optimizer', in: ['sgd'] } }),
  batchNorm: boolean(),
});

describe('search space', () => {
  it('validates specs and names the bad parameter and field', () => {
    expect(() => defineSpace({ a: int(5, 1) })).toThrow(
      /'a': expected finite low < high, received low=5, high=1/,
    );
    expect(() => defineSpace({ a: float(0, 1, { log: true }) })).toThrow(
      /'a': a log scale needs low > 0, received low=0/,
    );
    expect(() => defineSpace({ a: int(1.5, 3) })).toThrow(/'a': low and high must be integers/);
    expect(() => defineSpace({ a: choice([]) })).toThrow(/'a': values must be a non-empty array/);
    expect(() => defineSpace({ a: choice(['x', 'x']) })).toThrow(/distinct/);
    expect(() => defineSpace({ a: float(0, 1, { when: { param: 'b', equals: 1 } }) })).toThrow(
      /'a': when.param must name an earlier parameter \(none\), received "b"/,
    );
    expect(() =>
      defineSpace({ o: choice(['a', 'b']), m: float(0, 1, { when: { param: 'o', equals: 'c' } }) }),
    ).toThrow(/'m': when: 'o' never equals "c"/);
    expect(() => defineSpace({ a: { type: 'int', low: 0, hgih: 3 } as any })).toThrow(
      /unknown field 'hgih'/,
    );
    expect(() => defineSpace({ a: { type: 'integer' } as any })).toThrow(
      /type must be 'int', 'float'/,
    );
  });

  it('checks points: ranges, steps, conditions', () => {
    const ok = {
      filters: 8,
      units: 100,
      lr: 0.01,
      dropout: 0.1,
      optimizer: 'adam',
      batchNorm: true,
    };
    space.check(ok);
    expect(() => space.check({ ...ok, filters: 10 })).toThrow(
      /'filters' must be an integer 4 \+ k \* 4, received 10/,
    );
    expect(() => space.check({ ...ok, lr: 2 })).toThrow(
      /'lr' must be a number in \[0.0001, 0.1\], received 2/,
    );
    expect(() => space.check({ ...ok, momentum: 0.9 })).toThrow(
      /'momentum' is given but its condition does not hold/,
    );
    expect(() => space.check({ ...ok, optimizer: 'sgd' })).toThrow(/missing parameter 'momentum'/);
    expect(() => space.check({ ...ok, extra: 1 })).toThrow(/unknown parameter 'extra'/);
  });

  it('random sampling covers the ranges on their scales and respects conditions', () => {
    const sampler = new RandomSampler();
    const points = Array.from({ length: 2000 }, (_, n) =>
      sampler.sample(space, {
        number: n,
        history: [],
        direction: 'minimize',
        random: trialRandom(3, n),
      }),
    );
    for (const p of points) space.check(p);
    const lrs = points.map((p) => p.lr as number);
    // Log-uniform: about a third of the draws in each decade.
    const inDecade = lrs.filter((v) => v >= 1e-3 && v < 1e-2).length / lrs.length;
    expect(inDecade).toBeGreaterThan(0.29);
    expect(inDecade).toBeLessThan(0.38);
    const filters = new Set(points.map((p) => p.filters));
    expect(filters.size).toBe(16);
    expect(Math.min(...(filters as Set<number>))).toBe(4);
    expect(Math.max(...(filters as Set<number>))).toBe(64);
    const units = points.map((p) => p.units as number);
    expect(Math.min(...units)).toBe(16);
    expect(Math.max(...units)).toBeGreaterThan(480);
    expect(Math.max(...units)).toBeLessThanOrEqual(512);
    expect(units.every(Number.isInteger)).toBe(true);
    const sgd = points.filter((p) => p.optimizer === 'sgd');
    expect(sgd.length / points.length).toBeGreaterThan(0.45);
    expect(sgd.every((p) => 'momentum' in p && 'nesterov' in p)).toBe(true);
    // Same seed and number, same point; another number, another point.
    const again = sampler.sample(space, {
      number: 5,
      history: [],
      direction: 'minimize',
      random: trialRandom(3, 5),
    });
    expect(again).toEqual(points[5]);
    expect(points[6]).not.toEqual(points[5]);
  });

  it('grid: every combination once, conditional parameters only where active', () => {
    const small = defineSpace({
      optimizer: choice(['sgd', 'adam']),
      momentum: float(0.5, 0.9, { gridPoints: 3, when: { param: 'optimizer', equals: 'sgd' } }),
      lr: float(1e-3, 1e-1, { log: true, gridPoints: 3 }),
      width: int(1, 3),
    });
    const grid = new GridSampler();
    const points = grid.points(small);
    // sgd: 3 momenta x 3 lrs x 3 widths; adam: 3 x 3.
    expect(points.length).toBe(27 + 9);
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(points.length);
    const lrs = [...new Set(points.map((p) => p.lr as number))].sort((a, b) => a - b);
    expect(lrs[0]).toBeCloseTo(1e-3, 12);
    expect(lrs[1]).toBeCloseTo(1e-2, 12);
    expect(lrs[2]).toBe(1e-1);
    for (const p of points) small.check(p);
    const random = new RandomSource(0);
    expect(
      grid.sample(small, { number: 36, history: [], direction: 'minimize', random }),
    ).toBeNull();
    expect(() => new GridSampler({ maxPoints: 10 }).points(small)).toThrow(
      /more than maxPoints=10/,
    );
  });
});
