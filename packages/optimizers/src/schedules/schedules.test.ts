import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fixtures from '../__fixtures__/schedules.json';
import { Adagrad } from '../adagrad';
import { Adam } from '../adam';
import type { Optimizer } from '../optimizer';
import { SGD } from '../sgd';
import { ChainedScheduler } from './chained-scheduler';
import { ConstantLR } from './constant-lr';
import { CosineAnnealingLR } from './cosine-annealing-lr';
import { CosineAnnealingWarmRestarts } from './cosine-annealing-warm-restarts';
import { CyclicLR } from './cyclic-lr';
import { ExponentialLR } from './exponential-lr';
import { LambdaLR } from './lambda-lr';
import { LinearLR } from './linear-lr';
import type { LRScheduler } from './lr-scheduler';
import { MultiStepLR } from './multi-step-lr';
import { MultiplicativeLR } from './multiplicative-lr';
import { OneCycleLR } from './one-cycle-lr';
import { PolynomialLR } from './polynomial-lr';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau';
import { SequentialLR } from './sequential-lr';
import { StepLR } from './step-lr';

type Spec = Record<string, any>;
type Case = {
  spec: Spec;
  optimizer: string;
  lrs: number[][];
  momenta?: number[][];
  metrics?: number[];
};
const CASES = fixtures.cases as Record<string, Case>;
const LAMBDAS: Record<string, (e: number) => number> = {
  '1/(1+e)': (e) => 1 / (1 + e),
  '0.97**e': (e) => 0.97 ** e,
  '0.95': () => 0.95,
  '1-0.01*e': (e) => 1 - 0.01 * e,
};

let created: tf.Variable[] = [];
function makeOptimizer(kind: string): Optimizer<any> {
  const [a, b] = [tf.variable(tf.zeros([2])), tf.variable(tf.zeros([1]))];
  created.push(a, b);
  const [lr1, lr2] = fixtures.initialLrs;
  return kind === 'Adam'
    ? new Adam([
        { params: [a], lr: lr1 },
        { params: [b], lr: lr2 },
      ])
    : new SGD(
        [
          { params: [a], lr: lr1 },
          { params: [b], lr: lr2 },
        ],
        { lr: lr1, momentum: 0.9 },
      );
}

/** Build a schedule from its fixture spec (the options are already camelCase convkit options). */
export function makeSchedule(opt: Optimizer<any>, spec: Spec): LRScheduler {
  const { type, ...o } = spec;
  switch (type) {
    case 'StepLR':
      return new StepLR(opt, o as any);
    case 'MultiStepLR':
      return new MultiStepLR(opt, o as any);
    case 'ExponentialLR':
      return new ExponentialLR(opt, o as any);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, o as any);
    case 'CosineAnnealingWarmRestarts':
      return new CosineAnnealingWarmRestarts(opt, o as any);
    case 'LinearLR':
      return new LinearLR(opt, o);
    case 'LambdaLR':
      return new LambdaLR(
        opt,
        (o.lambdas as string[]).map((k) => LAMBDAS[k]),
      );
    case 'OneCycleLR':
      return new OneCycleLR(opt, o as any);
    case 'SequentialLR':
      return new SequentialLR(opt, {
        schedulers: (o.schedulers as Spec[]).map((s) => makeSchedule(opt, s)),
        milestones: o.milestones,
      });
    case 'ConstantLR':
      return new ConstantLR(opt, o);
    case 'MultiplicativeLR':
      return new MultiplicativeLR(
        opt,
        (o.lambdas as string[]).map((k) => LAMBDAS[k]),
      );
    case 'PolynomialLR':
      return new PolynomialLR(opt, o);
    case 'CyclicLR':
      return new CyclicLR(opt, o as any);
    case 'ChainedScheduler':
      return new ChainedScheduler((o.schedulers as Spec[]).map((s) => makeSchedule(opt, s)));
    default:
      throw new Error(`unknown schedule ${type}`);
  }
}

const momentumOf = (opt: Optimizer<any>) =>
  opt.paramGroups.map((g: any) => (g.betas ? g.betas[0] : g.momentum));

/** Run a fixture case: the lr after construction, then after each of the epochs. */
function run(c: Case): { lrs: number[][]; momenta: number[][] } {
  const opt = makeOptimizer(c.optimizer);
  const lrs = [opt.paramGroups.map((g) => g.lr)];
  const momenta = [momentumOf(opt)];
  if (c.spec.type === 'ReduceLROnPlateau' || c.spec.type === 'ExponentialLR+ReduceLROnPlateau') {
    const { type, gamma, ...o } = c.spec;
    const exp = gamma === undefined ? null : new ExponentialLR(opt, { gamma });
    const plateau = new ReduceLROnPlateau(opt, o);
    for (const metric of c.metrics!) {
      exp?.step();
      plateau.step(metric);
      lrs.push(plateau.getLastLr());
    }
  } else {
    const s = makeSchedule(opt, c.spec);
    lrs[0] = s.getLastLr();
    momenta[0] = momentumOf(opt);
    for (let i = 1; i < c.lrs.length; i++) {
      s.step();
      lrs.push(s.getLastLr());
      momenta.push(momentumOf(opt));
    }
  }
  opt.dispose();
  return { lrs, momenta };
}

/**
 * Schedules whose float64 formulas use only +, −, ×, ÷ and comparisons reproduce PyTorch's
 * sequence bit for bit. Those that call cos or pow differ by a few ulps, because V8's Math.cos
 * and ** (fdlibm ports) and glibc's cos / pow (used by CPython) round differently; the recursive
 * CosineAnnealingLR carries such an ulp forward. CyclicLR's 'exp_range' mode (gamma ** step) is one of them. They are held to 1e-14 relative (measured: <= 8.4e-16).
 */
const TRANSCENDENTAL = new Set([
  'CosineAnnealingLR',
  'CosineAnnealingWarmRestarts',
  'OneCycleLR',
  'LambdaLR',
  'SequentialLR',
]);
const RTOL_TRANSCENDENTAL = 1e-14;

function maxRelativeError(actual: number[][], expected: number[][]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((row, i) => {
    row.forEach((a, j) => {
      const e = expected[i][j];
      worst = Math.max(worst, a === e ? 0 : Math.abs(a - e) / Math.abs(e));
    });
  });
  return worst;
}

describe('schedules vs PyTorch 1.13 (exact, or 1e-14 relative where cos / pow are involved)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterEach(() => {
    tf.dispose(created);
    created = [];
  });

  for (const [name, c] of Object.entries(CASES)) {
    const exact =
      (!TRANSCENDENTAL.has(c.spec.type) && c.spec.mode !== 'exp_range') ||
      name === 'sequential_three';
    const how = exact ? 'exactly' : `within ${RTOL_TRANSCENDENTAL} relative`;
    it(`${name}: ${c.lrs.length} learning rates${c.momenta ? ' and momenta' : ''} equal PyTorch's ${how}`, () => {
      const { lrs, momenta } = run(c);
      if (exact) {
        expect(lrs).toEqual(c.lrs);
        if (c.momenta) expect(momenta).toEqual(c.momenta);
      } else {
        const worst = Math.max(
          maxRelativeError(lrs, c.lrs),
          c.momenta ? maxRelativeError(momenta, c.momenta) : 0,
        );
        expect(worst).toBeLessThanOrEqual(RTOL_TRANSCENDENTAL);
        if (worst > 0) console.log(`${name}: max relative difference ${worst.toExponential(2)}`);
      }
    });
  }
});

describe('schedule state dicts, combination and errors', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterEach(() => {
    tf.dispose(created);
    created = [];
  });

  const resumable: Spec[] = [
    { type: 'CosineAnnealingWarmRestarts', t0: 10, tMult: 2, etaMin: 0.001 },
    { type: 'OneCycleLR', maxLr: [1.0, 0.5], totalSteps: 80 },
    { type: 'CosineAnnealingLR', tMax: 20, etaMin: 0.001 },
    {
      type: 'SequentialLR',
      milestones: [5, 30],
      schedulers: [
        { type: 'LinearLR', startFactor: 0.25, totalIters: 4 },
        { type: 'ExponentialLR', gamma: 0.9 },
        { type: 'CosineAnnealingLR', tMax: 10 },
      ],
    },
    {
      type: 'CyclicLR',
      baseLr: [0.01, 0.02],
      maxLr: 0.1,
      stepSizeUp: 4,
      stepSizeDown: 6,
      mode: 'triangular2',
    },
    {
      type: 'ChainedScheduler',
      schedulers: [
        { type: 'ConstantLR', factor: 0.1, totalIters: 25 },
        { type: 'PolynomialLR', totalIters: 40, power: 2 },
      ],
    },
  ];
  for (const spec of resumable) {
    it(`${spec.type}: stateDict after 20 steps resumes the same sequence (through JSON)`, () => {
      const full = makeOptimizer('SGD');
      const reference = makeSchedule(full, spec);
      const expected: number[][] = [];
      for (let i = 0; i < 50; i++) {
        reference.step();
        expected.push([...reference.getLastLr(), ...momentumOf(full)]);
      }
      const first = makeOptimizer('SGD');
      const s1 = makeSchedule(first, spec);
      for (let i = 0; i < 20; i++) s1.step();
      const saved = JSON.parse(JSON.stringify({ opt: first.stateDict(), sched: s1.stateDict() }));
      const second = makeOptimizer('SGD');
      const s2 = makeSchedule(second, spec);
      second.loadStateDict(saved.opt);
      s2.loadStateDict(saved.sched);
      const resumed: number[][] = [];
      for (let i = 20; i < 50; i++) {
        s2.step();
        resumed.push([...s2.getLastLr(), ...momentumOf(second)]);
      }
      expect(resumed).toEqual(expected.slice(20));
    });
  }

  it('ReduceLROnPlateau state survives JSON (best = Infinity is stored as null)', () => {
    const opt = makeOptimizer('SGD');
    const p = new ReduceLROnPlateau(opt, { patience: 1 });
    const fresh = JSON.parse(JSON.stringify(p.stateDict()));
    expect(fresh.best).toBeNull();
    for (const m of [1, 0.5, 0.6, 0.7]) p.step(m);
    const other = new ReduceLROnPlateau(makeOptimizer('SGD'), { patience: 1 });
    other.loadStateDict(JSON.parse(JSON.stringify(p.stateDict())));
    expect(other.best).toBe(0.5);
    expect(other.getLastLr()).toEqual(p.getLastLr());
    const { best: _best, ...noBest } = p.stateDict();
    expect(() => other.loadStateDict({ ...noBest, bset: 1 } as never)).toThrow(
      'ReduceLROnPlateau.loadStateDict: 2 problem(s):\n  missing key best\n  unexpected key bset',
    );
    const steps = new StepLR(makeOptimizer('SGD'), { stepSize: 2 });
    expect(() => steps.loadStateDict({ ...steps.stateDict(), extra: 1 } as never)).toThrow(
      'StepLR.loadStateDict: unexpected key extra',
    );
    expect(other.best).toBe(0.5);
  });

  it('a chainable schedule and ReduceLROnPlateau share one optimizer: both multiply the group lr', () => {
    const opt = makeOptimizer('SGD');
    const decay = new StepLR(opt, { stepSize: 100, gamma: 0.5 });
    const plateau = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.1 });
    decay.step();
    plateau.step(1);
    plateau.step(2); // no improvement, patience 0: lr × 0.1
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1 * 0.1, 0.05 * 0.1]);
    for (let epoch = 2; epoch <= 100; epoch++) decay.step(); // epoch 100: StepLR halves the reduced lr
    expect(opt.getLr(0)).toBe(0.1 * 0.1 * 0.5);
  });

  it("CyclicLR cycles Adam's beta1 as it cycles SGD's momentum (PyTorch 1.13's sequence)", () => {
    const c = CASES.cyclic_triangular2_per_group;
    const opt = makeOptimizer('Adam');
    const s = makeSchedule(opt, c.spec);
    const beta1 = [momentumOf(opt)];
    for (let i = 1; i < c.lrs.length; i++) {
      s.step();
      beta1.push(momentumOf(opt));
    }
    expect(beta1).toEqual(c.momenta);
    expect(opt.paramGroups.map((g: any) => g.betas[1])).toEqual([0.999, 0.999]);
    opt.dispose();
  });

  it('a PolynomialLR inside SequentialLR restarts from its closed form', () => {
    const opt = makeOptimizer('SGD');
    const s = new SequentialLR(opt, {
      schedulers: [
        new ConstantLR(opt, { factor: 0.5, totalIters: 3 }),
        new PolynomialLR(opt, { totalIters: 4 }),
      ],
      milestones: [3],
    });
    const lrs = [s.getLastLr()[0]];
    for (let i = 0; i < 8; i++) {
      s.step();
      lrs.push(s.getLastLr()[0]);
    }
    expect(lrs.map((v) => Number(v.toPrecision(12)))).toEqual([
      0.05, 0.05, 0.05, 0.1, 0.075, 0.05, 0.025, 0, 0,
    ]);
  });

  it('bad options of the catalogue schedules name the class, the argument and the value', () => {
    const opt = makeOptimizer('SGD');
    expect(() => new ConstantLR(opt, { factor: 1.5 })).toThrow(
      'ConstantLR: factor must be in [0, 1], received 1.5',
    );
    expect(() => new PolynomialLR(opt, { totalIters: 0 })).toThrow(
      'PolynomialLR: totalIters must be a positive integer, received 0',
    );
    expect(() => new MultiplicativeLR(opt, [() => 1])).toThrow(
      'MultiplicativeLR: lrLambda.length must be 2 (one per parameter group), received 1',
    );
    expect(() => new CyclicLR(opt, { baseLr: 0.1 } as any)).toThrow(
      'CyclicLR: maxLr must be given, received undefined',
    );
    expect(() => new CyclicLR(opt, { baseLr: 0.1, maxLr: 1, mode: 'triangle' as any })).toThrow(
      `CyclicLR: mode must be one of 'triangular', 'triangular2', 'exp_range', received "triangle"`,
    );
    expect(() => new CyclicLR(opt, { baseLr: [0.1, 0.2, 0.3], maxLr: 1 })).toThrow(
      'CyclicLR: baseLr.length must be 2 (one per parameter group), received 3',
    );
    const [v] = [tf.variable(tf.zeros([1]))];
    created.push(v);
    const adagrad = new Adagrad([v]);
    expect(() => new CyclicLR(adagrad, { baseLr: 0.1, maxLr: 1 })).toThrow(
      'CyclicLR: cycleMomentum must be false for Adagrad (it has neither momentum nor betas), received true',
    );
    const other = makeOptimizer('SGD');
    expect(
      () =>
        new ChainedScheduler([
          new StepLR(opt, { stepSize: 2 }),
          new StepLR(other, { stepSize: 2 }),
        ]),
    ).toThrow(
      'ChainedScheduler: schedulers[1].optimizer must be the optimizer of schedulers[0], received "SGD"',
    );
    expect(() => new ChainedScheduler([])).toThrow(
      'ChainedScheduler: schedulers must be a non-empty array of schedules, received []',
    );
  });

  it('bad options name the class, the argument, expected and received', () => {
    const opt = makeOptimizer('SGD');
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(
      'StepLR: stepSize must be a positive integer, received 0',
    );
    expect(() => new StepLR(opt, {} as any)).toThrow(
      'StepLR: stepSize must be given, received undefined',
    );
    expect(() => new ExponentialLR(opt, { gamma: 0.9, gama: 1 } as any)).toThrow(
      'ExponentialLR: unknown option "gama" (known options: gamma)',
    );
    expect(() => new ReduceLROnPlateau(opt, { factor: 1.5 })).toThrow(
      'ReduceLROnPlateau: factor must be < 1, received 1.5',
    );
    expect(() => new ReduceLROnPlateau(opt, { mode: 'up' as any })).toThrow(
      `ReduceLROnPlateau: mode must be one of 'min', 'max', received "up"`,
    );
    expect(() => new ReduceLROnPlateau(opt, { minLr: [0.1] })).toThrow(
      'ReduceLROnPlateau: minLr.length must be 2 (one per parameter group), received 1',
    );
    expect(() => new OneCycleLR(opt, { maxLr: 1 })).toThrow(
      'OneCycleLR: totalSteps must be given, or epochs and stepsPerEpoch',
    );
    expect(() => new LambdaLR(opt, [(e) => e])).toThrow('LambdaLR: lrLambda.length must be 2');
    const oneCycle = new OneCycleLR(opt, { maxLr: 1, totalSteps: 3 });
    oneCycle.step();
    oneCycle.step();
    oneCycle.step();
    expect(() => oneCycle.step()).toThrow(
      'OneCycleLR: the number of steps must be <= totalSteps + 1 = 4, received 5',
    );
  });
});
