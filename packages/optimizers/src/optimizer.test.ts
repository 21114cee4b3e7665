import { assertNoLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  leastSquares,
  makeOptimizer,
  OPTIMIZER_CASES,
  trainStep,
} from './__fixtures__/optimizer-cases';
import { Adagrad } from './adagrad';
import { Adam } from './adam';
import { ASGD } from './asgd';
import type { Optimizer } from './optimizer';
import { Rprop } from './rprop';
import { SGD } from './sgd';

beforeAll(async () => {
  await useBackend('cpu');
});

const RESUME_CASES = Object.keys(OPTIMIZER_CASES).filter((n) => !n.includes('weight_decay'));

describe('stateDict / loadStateDict', () => {
  for (const name of RESUME_CASES) {
    it(`${name}: 20 steps, save (JSON), load into a fresh optimizer, 30 more == 50 uninterrupted`, () => {
      const c = OPTIMIZER_CASES[name];
      const full = leastSquares();
      const reference = makeOptimizer(c, full.w, full.b);
      for (let i = 0; i < 50; i++) trainStep(reference, full.loss, [full.w, full.b]);

      const first = leastSquares();
      const opt1 = makeOptimizer(c, first.w, first.b);
      for (let i = 0; i < 20; i++) trainStep(opt1, first.loss, [first.w, first.b]);
      const saved = JSON.parse(JSON.stringify(opt1.stateDict()));

      const second = leastSquares();
      second.w.assign(first.w);
      second.b.assign(first.b);
      const opt2 = makeOptimizer(c, second.w, second.b);
      opt2.loadStateDict(saved);
      for (let i = 20; i < 50; i++) trainStep(opt2, second.loss, [second.w, second.b]);

      expect(Array.from(second.w.dataSync())).toEqual(Array.from(full.w.dataSync()));
      expect(Array.from(second.b.dataSync())).toEqual(Array.from(full.b.dataSync()));
      for (const o of [reference, opt1, opt2]) o.dispose();
      for (const p of [full, first, second]) p.dispose();
    });
  }

  it('restores per-group hyperparameters and rejects a mismatched optimizer', () => {
    const { w, b, loss, dispose } = leastSquares();
    const adam = new Adam([
      { params: [w], lr: 0.1 },
      { params: [b], betas: [0.5, 0.9] },
    ]);
    trainStep(adam, loss, [w, b]);
    const dict = adam.stateDict();
    expect(dict.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    expect(dict.state['0'].step).toBe(1);
    expect(Object.keys(dict.state['0'].tensors)).toEqual(['expAvg', 'expAvgSq']);
    const other = new Adam([{ params: [w] }, { params: [b] }]);
    other.loadStateDict(dict);
    expect(other.paramGroups[0].lr).toBe(0.1);
    expect(other.paramGroups[1].betas).toEqual([0.5, 0.9]);
    const sgd = new SGD([{ params: [w] }, { params: [b] }], { lr: 0.1 });
    expect(() => sgd.loadStateDict(dict)).toThrow(
      'SGD: loadStateDict(dict).type must be "SGD", received "Adam"',
    );
    const single = new Adam([w, b]);
    expect(() => single.loadStateDict(dict)).toThrow(
      'Adam: loadStateDict(dict).paramGroups.length must be 1, received 2',
    );
    // The state protocol: missing and unknown keys are named, nothing is loaded.
    const { state: _state, ...partial } = dict;
    expect(() => other.loadStateDict({ ...partial, step: 3 } as never)).toThrow(
      'Adam.loadStateDict: 2 problem(s):\n  missing key state\n  unexpected key step',
    );
    expect(() => other.loadStateDict(null as never)).toThrow(
      'Adam.loadStateDict: state: expected { type, paramGroups, state }, received null',
    );
    for (const o of [adam, other, sgd, single]) o.dispose();
    dispose();
  });
});

describe('memory', () => {
  for (const name of [
    'sgd_nesterov',
    'adam_amsgrad',
    'rmsprop_centered_momentum',
    'nadam',
    'lion_groups',
    'rprop_groups',
    'asgd_averaging_weight_decay',
  ]) {
    it(`${name}: 200 steps leak no tensor, dispose() frees the state`, async () => {
      const { w, b, loss, dispose } = leastSquares();
      const before = tf.memory().numTensors;
      const opt = makeOptimizer(OPTIMIZER_CASES[name], w, b);
      trainStep(opt, loss, [w, b]); // creates the state tensors
      await assertNoLeaks(`${name} steps`, () => {
        for (let i = 0; i < 200; i++) trainStep(opt, loss, [w, b]);
      });
      await assertNoLeaks(`${name} minimize`, () => {
        for (let i = 0; i < 20; i++) opt.minimize(loss);
        opt.minimize(loss, true)!.dispose();
      });
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      dispose();
    });
  }
});

describe('API', () => {
  it('minimize(lossFn) equals step(tf.variableGrads(lossFn)) and returns the loss on request', () => {
    const a = leastSquares();
    const b = leastSquares();
    const optA = new Adam([a.w, a.b], { lr: 0.01 });
    const optB = new Adam([b.w, b.b], { lr: 0.01 });
    let cost: tf.Scalar | null = null;
    for (let i = 0; i < 5; i++) {
      cost?.dispose();
      cost = optA.minimize(a.loss, true);
      trainStep(optB, b.loss, [b.w, b.b]);
    }
    expect(cost!.dataSync()[0]).toBeGreaterThan(0);
    expect(Array.from(a.w.dataSync())).toEqual(Array.from(b.w.dataSync()));
    cost!.dispose();
    optA.dispose();
    optB.dispose();
    a.dispose();
    b.dispose();
  });

  it('group options are readable and settable; a variable without a gradient is skipped', () => {
    const { w, b, dispose } = leastSquares();
    const sgd = new SGD([{ params: [w], lr: 0.1 }, { params: [b] }], { lr: 0.01, momentum: 0.9 });
    expect([sgd.getLr(0), sgd.getLr(1)]).toEqual([0.1, 0.01]);
    expect(sgd.paramGroups[1].momentum).toBe(0.9);
    sgd.setLr(0.5, 1);
    sgd.paramGroups[0].lr = 0.25;
    expect(sgd.paramGroups.map((g) => g.lr)).toEqual([0.25, 0.5]);
    sgd.setLr(1);
    expect(sgd.paramGroups.map((g) => g.lr)).toEqual([1, 1]);
    const before = Array.from(b.dataSync());
    const grad = tf.onesLike(w);
    sgd.step({ [w.name]: grad });
    expect(Array.from(b.dataSync())).toEqual(before);
    expect(sgd.stateFor(b)).toBeUndefined();
    expect(sgd.stateFor(w)?.step).toBe(1);
    grad.dispose();
    sgd.dispose();
    dispose();
  });

  it('maximize ascends', () => {
    const v = tf.variable(tf.scalar(1));
    const sgd = new SGD([v], { lr: 0.5, maximize: true });
    const g = tf.scalar(2);
    sgd.step({ [v.name]: g });
    expect(v.dataSync()[0]).toBe(2);
    tf.dispose([v, g]);
  });
});

describe('bad input names the class, the argument, expected and received', () => {
  const cases: Array<[string, (v: tf.Variable[]) => Optimizer<any>, string]> = [
    ['negative lr', (v) => new Adam(v, { lr: -1 }), 'Adam: lr must be >= 0, received -1'],
    [
      'beta1 >= 1',
      (v) => new Adam(v, { betas: [1.2, 0.999] }),
      'Adam: betas[0] must be in [0, 1), received 1.2',
    ],
    [
      'beta2 < 0',
      (v) => new Adam(v, { betas: [0.9, -0.1] }),
      'Adam: betas[1] must be in [0, 1), received -0.1',
    ],
    [
      'unknown option',
      (v) => new Adam(v, { weight_decay: 0.1 } as any),
      'Adam: unknown option "weight_decay" (known options: lr, betas, eps, weightDecay, amsgrad, maximize)',
    ],
    [
      'unknown group option',
      (v) => new Adam([{ params: v, momentum: 0.9 } as any]),
      'Adam: unknown option paramGroups[0]."momentum"',
    ],
    [
      'group beta',
      (v) => new Adam([{ params: [v[0]] }, { params: [v[1]], betas: [0.9, 1] }]),
      'Adam: paramGroups[1].betas[1] must be in [0, 1), received 1',
    ],
    [
      'SGD without lr',
      (v) => new SGD(v),
      'SGD: lr must be given (SGD has no default lr, as in PyTorch), received undefined',
    ],
    [
      'nesterov without momentum',
      (v) => new SGD(v, { lr: 0.1, nesterov: true }),
      'SGD: nesterov must be used with momentum > 0 and dampening 0, received "momentum 0, dampening 0"',
    ],
    [
      'boolean',
      (v) => new Adam(v, { amsgrad: 'yes' as any }),
      'Adam: amsgrad must be a boolean, received "yes"',
    ],
    [
      'duplicate variable',
      (v) => new Adam([{ params: [v[0]] }, { params: [v[0]] }]),
      'appears in more than one parameter group',
    ],
    [
      'empty params',
      () => new Adam([]),
      'Adam: params must be a non-empty array of tf.Variable or of parameter groups, received []',
    ],
    [
      'Adagrad per-group accumulator',
      (v) => new Adagrad([{ params: [v[0]], initialAccumulatorValue: 1 }]),
      "Adagrad: paramGroups[0].initialAccumulatorValue must be the constructor's value 0",
    ],
    [
      'Rprop etas',
      (v) => new Rprop(v, { etas: [0.5, 0.9] }),
      'Rprop: etas must be [etaminus, etaplus] with 0 < etaminus < 1 < etaplus, received [0.5, 0.9]',
    ],
    [
      'Rprop stepSizes',
      (v) => new Rprop([{ params: v, stepSizes: [1, 0.1] }]),
      'Rprop: paramGroups[0].stepSizes must be [min, max] with 0 <= min <= max, received [1, 0.1]',
    ],
    [
      'ASGD alpha',
      (v) => new ASGD(v, { alpha: Number.NaN }),
      'ASGD: alpha must be a finite number, received NaN',
    ],
    ['ASGD t0', (v) => new ASGD(v, { t0: -1 }), 'ASGD: t0 must be >= 0, received -1'],
  ];
  for (const [label, make, message] of cases) {
    it(label, () => {
      const { w, b, dispose } = leastSquares();
      expect(() => make([w, b])).toThrow(message);
      dispose();
    });
  }

  it('gradient of the wrong shape, for an unknown variable, or of the wrong dtype', () => {
    const { w, b, dispose } = leastSquares();
    const adam = new Adam([w, b]);
    const wrong = tf.zeros([2, 3]);
    expect(() => adam.step({ [w.name]: wrong })).toThrow(
      `Adam: grads["${w.name}"].shape must be [3, 2] (the variable's shape), received [2, 3]`,
    );
    const stranger = tf.variable(tf.zeros([2]), true, 'stranger');
    const g = tf.zeros([2]);
    expect(() => adam.step({ stranger: g })).toThrow(
      `Adam: step(grads) received a gradient for "stranger", which is not a variable of this optimizer (expected one of: ${w.name}, ${b.name})`,
    );
    const ints = tf.zeros([2], 'int32');
    expect(() => adam.step({ [b.name]: ints })).toThrow(
      `Adam: grads["${b.name}"].dtype must be "float32", received "int32"`,
    );
    expect(() => adam.setLr(-0.1)).toThrow('Adam: lr must be >= 0, received -0.1');
    tf.dispose([wrong, stranger, g, ints]);
    adam.dispose();
    dispose();
  });
});
