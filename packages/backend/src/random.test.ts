import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { globalRandom, manualSeed, RandomSource } from './random';
import { selectBackend } from './select-backend';
import { StateDictError } from './stateful';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

describe('RandomSource', () => {
  it('reproduces a stream from a seed and differs across seeds', () => {
    const a = new RandomSource(42).uniformArray(100);
    const b = new RandomSource(42).uniformArray(100);
    const c = new RandomSource(43).uniformArray(100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws uniform and normal samples with the right moments', () => {
    const random = new RandomSource(1);
    const n = 200_000;
    const u = random.uniformArray(n, -2, 4);
    const z = random.normalArray(n, 3, 0.5);
    const mean = (xs: Float32Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = (xs: Float32Array) => {
      const m = mean(xs);
      return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
    };
    // Tolerances are 5 standard errors of each estimate.
    expect(Math.abs(mean(u) - 1)).toBeLessThan((5 * 6) / Math.sqrt(12 * n));
    expect(Math.abs(std(u) - 6 / Math.sqrt(12))).toBeLessThan(0.01);
    expect(u.every((x) => x >= -2 && x < 4)).toBe(true);
    expect(Math.abs(mean(z) - 3)).toBeLessThan((5 * 0.5) / Math.sqrt(n));
    expect(Math.abs(std(z) - 0.5)).toBeLessThan((5 * 0.5) / Math.sqrt(2 * n));
  });

  it('saves and restores its state exactly, mid Box-Muller pair included', () => {
    const random = new RandomSource(9);
    random.normal();
    const state = random.stateDict();
    const expected = [random.normal(), random.next(), random.int(0, 10)];
    random.loadStateDict(JSON.parse(JSON.stringify(state)));
    expect([random.normal(), random.next(), random.int(0, 10)]).toEqual(expected);
    // The former names remain, as aliases.
    random.setState(random.getState());
  });

  it('forks independent streams deterministically', () => {
    const a = new RandomSource(5);
    const b = new RandomSource(5);
    const childA = a.fork().uniformArray(10);
    const childB = b.fork().uniformArray(10);
    expect(Array.from(childA)).toEqual(Array.from(childB));
    expect(Array.from(childA)).not.toEqual(Array.from(a.uniformArray(10)));
  });

  it('makes permutations and bernoulli masks', async () => {
    const perm = new RandomSource(3).permutation(1000);
    expect(Array.from(perm).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const mask = new RandomSource(3).bernoulliTensor([100, 100], 0.3);
    const fraction = (await mask.mean().data())[0];
    expect(Math.abs(fraction - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / 10_000));
    mask.dispose();
  });

  it('gives the same tensors after manualSeed on the shared source', async () => {
    manualSeed(11);
    const first = globalRandom().normalTensor([4, 4]);
    manualSeed(11);
    const second = globalRandom().normalTensor([4, 4]);
    expect(Array.from(await first.data())).toEqual(Array.from(await second.data()));
    tf.dispose([first, second]);
  });

  it('rejects bad arguments with the function and the value', () => {
    const random = new RandomSource();
    expect(() => random.seed(Number.NaN)).toThrow(
      'RandomSource.seed: expected a finite number, received NaN',
    );
    expect(() => random.int(3, 3)).toThrow(
      'RandomSource.int: expected high > low, received low=3, high=3',
    );
    expect(() => random.bernoulliTensor([2], 1.5)).toThrow('expected 0 <= p <= 1, received 1.5');
    expect(() => random.uniformTensor([2, -1])).toThrow('received [2,-1]');
    expect(() => random.loadStateDict({ algorithm: 'mt19937' } as never)).toThrow(
      /^RandomSource\.loadStateDict: 2 problem\(s\):\n {2}missing key state\n {2}missing key spareNormal$/,
    );
    const good = random.stateDict();
    expect(() => random.loadStateDict({ ...good, extra: 1 } as never)).toThrow(StateDictError);
    expect(() => random.loadStateDict({ ...good, extra: 1 } as never)).toThrow(
      'RandomSource.loadStateDict: unexpected key extra',
    );
    expect(() =>
      random.loadStateDict({
        algorithm: 'mt19937',
        state: [0, 0, 0, 0],
        spareNormal: 'x',
      } as never),
    ).toThrow(
      'RandomSource.loadStateDict: 3 problem(s):\n  algorithm: expected \'xoshiro128**\', received "mt19937"\n  state: expected 4 unsigned 32-bit integers, not all 0, received [0,0,0,0]\n  spareNormal: expected null or a finite number, received "x"',
    );
    // A refused state changes nothing.
    expect(random.stateDict()).toEqual(good);
  });
});
