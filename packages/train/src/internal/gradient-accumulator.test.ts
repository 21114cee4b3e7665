import { SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GradientAccumulator } from './gradient-accumulator';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Mean squared error of a linear model `x w` against `y`, and its gradient. */
function gradOf(w: tf.Variable, x: number[][], y: number[]) {
  return tf.tidy(() => {
    const xs = tf.tensor2d(x);
    const ys = tf.tensor2d(y, [y.length, 1]);
    const { grads } = tf.variableGrads(
      () => tf.mean(tf.square(tf.sub(tf.matMul(xs, w), ys))) as tf.Scalar,
      [w],
    );
    return { grads, weight: tf.scalar(x.length) };
  });
}

/** A [2, 1] weight (the tidy frees the initial value the variable copies). */
function weightVariable(name: string): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor2d([0.3, -0.7], [2, 1]), true, name));
}

const X = [
  [1, 2],
  [0.5, -1],
  [3, 0.25],
  [-2, 1],
  [0, 4],
];
const Y = [1, -2, 0.5, 3, -1];

describe('GradientAccumulator', () => {
  it('steps with the gradient of one batch as large as its micro-batches together', () => {
    const before = tf.memory().numTensors;
    const big = weightVariable('w');
    const small = weightVariable('w2');
    const sgdBig = new SGD([big], { lr: 0.1 });
    const sgdSmall = new SGD([small], { lr: 0.1 });

    const one = new GradientAccumulator(1);
    const whole = gradOf(big, X, Y);
    one.add(whole.grads, whole.weight);
    expect(one.ready).toBe(true);
    one.step(sgdBig);

    // Unequal micro-batches (2 + 2 + 1 samples): the weights make the mean exact.
    const micro = new GradientAccumulator(3);
    for (const [from, to] of [
      [0, 2],
      [2, 4],
      [4, 5],
    ]) {
      const g = gradOf(small, X.slice(from, to), Y.slice(from, to));
      // Both variables share one name in the map the optimizer reads (`w2` is small's name).
      micro.add({ w2: g.grads.w2 }, g.weight);
    }
    expect(micro.count).toBe(3);
    expect(micro.ready).toBe(true);
    micro.step(sgdSmall);
    expect(micro.count).toBe(0);

    const a = big.dataSync();
    const b = small.dataSync();
    expect(Array.from(a)).not.toEqual([0.3, -0.7]);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);

    sgdBig.dispose();
    sgdSmall.dispose();
    big.dispose();
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('steps a single micro-batch with its gradient unchanged, bit for bit', () => {
    const w = weightVariable('w');
    const seen: number[][] = [];
    const accumulator = new GradientAccumulator(1);
    const g = gradOf(w, X, Y);
    const expected = Array.from(g.grads.w.dataSync());
    accumulator.add(g.grads, g.weight);
    accumulator.step({ step: (grads) => void seen.push(Array.from(grads.w.dataSync())) });
    expect(seen).toEqual([expected]);
    w.dispose();
  });

  it('frees what it holds on dispose, refuses a step with nothing added and an add past due', () => {
    const before = tf.memory().numTensors;
    const w = weightVariable('w');
    const accumulator = new GradientAccumulator(2);
    expect(() => accumulator.step({ step() {} })).toThrow(/no gradients were added/);
    for (let i = 0; i < 2; i++) {
      const g = gradOf(w, X, Y);
      accumulator.add(g.grads, g.weight);
    }
    const extra = gradOf(w, X, Y);
    expect(() => accumulator.add(extra.grads, extra.weight)).toThrow(
      /2 micro-batches added, step\(\) is due/,
    );
    tf.dispose([extra.grads.w, extra.weight]);
    accumulator.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new GradientAccumulator(0)).toThrow(
      /expected steps to be an integer >= 1, received 0/,
    );
  });
});
