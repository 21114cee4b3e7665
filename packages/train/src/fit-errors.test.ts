// fit frees everything when a step fails (in the forward, the loss or the backward pass), and
// refuses class weights that do not match the classes with a message naming classWeight.
import { manualSeed } from '@convkit/backend';
import { SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyCnn, toyBatches } from './__fixtures__/toy';
import { fit } from './fit';
import type { LossFunction, TrainableModel } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The tiny CNN, whose forward throws at its `failAt`-th call (after running the real forward). */
function failing(failAt: number): TrainableModel & { dispose(): void } {
  const model = tinyCnn();
  let calls = 0;
  return {
    forward(x) {
      const out = model.forward(x);
      calls += 1;
      if (calls >= failAt) throw new Error('forward failed on purpose');
      return out;
    },
    trainableVariables: () => model.trainableVariables(),
    train: (mode?: boolean) => model.train(mode),
    eval: () => model.eval(),
    stateDict: () => model.stateDict(),
    loadStateDict: (s, o) => model.loadStateDict(s, o),
    dispose: () => model.dispose(),
  };
}

describe('fit on error paths', () => {
  const cases: [
    string,
    () => { model: TrainableModel & { dispose(): void }; loss?: LossFunction },
    RegExp,
  ][] = [
    ['the forward throws on the first step', () => ({ model: failing(1) }), /forward failed/],
    ['the forward throws on a later step', () => ({ model: failing(3) }), /forward failed/],
    [
      'the loss throws after computing',
      () => ({
        model: failing(Number.POSITIVE_INFINITY),
        loss: (p) => {
          tf.mul(tf.softmax(p), 2);
          throw new Error('loss failed on purpose');
        },
      }),
      /loss failed/,
    ],
    [
      'the loss returns a non-scalar',
      () => ({ model: failing(Number.POSITIVE_INFINITY), loss: (p) => tf.sum(tf.square(p), -1) }),
      /expected the loss function to return a scalar/,
    ],
    [
      'the backward pass fails (a gradient tfjs lacks)',
      () => ({
        model: failing(Number.POSITIVE_INFINITY),
        loss: (p) => tf.mean(tf.cast(tf.greater(p, 0), 'float32').mul(p)),
      }),
      /.+/,
    ],
  ];
  it.each(cases)('%s: the tensor count is back where it was', async (_, make, message) => {
    manualSeed(3);
    const { model, loss } = make();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
    const data = toyBatches(48, 16, 1);
    const before = tf.memory().numTensors;
    for (const accumulateSteps of [1, 2]) {
      await expect(fit(model, { data, optimizer, loss, accumulateSteps })).rejects.toThrow(message);
      expect(tf.memory().numTensors, `accumulateSteps ${accumulateSteps}`).toBe(before);
    }
    // The engine is usable afterwards: a plain step works and leaks nothing.
    const grads = tf.variableGrads(() => tf.sum(tf.square(model.trainableVariables()[0])));
    tf.dispose([grads.value, ...Object.values(grads.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
    model.dispose();
  });

  it('class weights shorter or longer than the class count: a clear error naming classWeight', async () => {
    manualSeed(3);
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
    const data = toyBatches(32, 16, 1);
    const before = tf.memory().numTensors;
    await expect(fit(model, { data, optimizer, classWeight: [1, 2] })).rejects.toThrow(
      'fit: expected classWeight to have 3 weights (one per class: the prediction has shape [16,3]), received 2',
    );
    await expect(fit(model, { data, optimizer, classWeight: [1, 2, 3, 4] })).rejects.toThrow(
      /expected classWeight to have 3 weights .*received 4/,
    );
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
    model.dispose();
  });
});
