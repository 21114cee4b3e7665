import { assertNoLeaks, type BackendName } from '@convkit/backend';
import { findMismatch, RTOL, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from './__fixtures__/losses.json';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  hingeEmbeddingLoss,
  huberLoss,
  klDiv,
  l1Loss,
  logSoftmax,
  mseLoss,
  multiLabelSoftMarginLoss,
  multiMarginLoss,
  nllLoss,
  smoothL1Loss,
} from './index';

type Loss = (input: tf.Tensor, target: tf.Tensor, options: any) => tf.Tensor;
const LOSSES: Record<string, Loss> = {
  mseLoss,
  l1Loss,
  smoothL1Loss,
  huberLoss,
  nllLoss,
  crossEntropy,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  multiLabelSoftMarginLoss,
  klDiv,
  hingeEmbeddingLoss,
  multiMarginLoss,
  logSoftmax: (x) => logSoftmax(x),
};

interface Packed {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: number[];
}
const toTensor = (p: Packed) => tf.tensor(p.data, p.shape, p.dtype);

/** Absolute tolerance for values near 0 (gradients that cancel to ~1e-8 in float32). */
const ATOL = 1e-6;
const worst: Record<string, { rel: number; name: string }> = {};

/** Largest |a - b| / max(|b|, ATOL / rtol): the relative error actually achieved. */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number) {
  let m = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === expected[i]) continue;
    m = Math.max(m, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor));
  }
  return m;
}

describe.each<BackendName>(['cpu', 'wasm'])('losses vs PyTorch on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(fixtures.cases.map((c) => ({ ...c, label: c.name })))('$label', async (c: any) => {
    const rtol = RTOL[backend];
    await assertNoLeaks(c.name, async () => {
      const fn = LOSSES[c.fn];
      const x = toTensor(c.input);
      const t = toTensor(c.target);
      const gy = toTensor(c.gradOutput);
      const withTarget = 'gradTarget' in c;
      const out = fn(x, t, c.options);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, b, c.options), gy));
      const grads = withTarget ? tf.grads(f)([x, t]) : [tf.grad((a: tf.Tensor) => f(a, t))(x)];
      const check = async (name: string, tensor: tf.Tensor, expected: Packed) => {
        expect(tensor.shape, `${name} shape`).toEqual(expected.shape);
        const values = await tensor.data();
        const mismatch = findMismatch(values, expected.data, { rtol, atol: ATOL });
        expect(mismatch, `${c.name} ${name}`).toBeNull();
        const rel = relError(values, expected.data, ATOL / rtol);
        const key = `${backend} ${name}`;
        if (!worst[key] || rel > worst[key].rel) worst[key] = { rel, name: c.name };
      };
      await check('value', out, c.output);
      await check('gradInput', grads[0], c.gradInput);
      if (withTarget) await check('gradTarget', grads[1], c.gradTarget);
      tf.dispose([x, t, gy, out, ...grads]);
    });
  });

  it('reports the worst relative error', () => {
    for (const [k, v] of Object.entries(worst)) {
      if (k.startsWith(backend))
        console.log(`worst relative error ${k}: ${v.rel.toExponential(2)} (${v.name})`);
    }
  });
});

describe('loss input errors', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  const x = () => tf.zeros([3, 10]);

  it('names the function, the argument, expected and received', () => {
    tf.tidy(() => {
      expect(() => crossEntropy(x(), tf.tensor1d([0, 1, 2, 3], 'int32'))).toThrow(
        'crossEntropy: target shape [4] does not match input shape [3, 10] (expected [3])',
      );
      expect(() => mseLoss(x(), tf.zeros([3, 9]))).toThrow(
        'mseLoss: target shape [3, 9] does not match input shape [3, 10] (expected [3, 10])',
      );
      expect(() => crossEntropy(x(), tf.tensor1d([0, 10, 2], 'int32'))).toThrow(
        'crossEntropy: target value 10 at flat index 1 is out of range for 10 classes (expected an integer in [0, 9] or ignoreIndex -100)',
      );
      expect(() => nllLoss(x(), tf.tensor1d([0, -1, 2], 'int32'))).toThrow(
        'nllLoss: target value -1 at flat index 1',
      );
      expect(() => multiMarginLoss(x(), tf.tensor1d([0, 1.5, 2]))).toThrow(
        'multiMarginLoss: target value 1.5',
      );
      expect(() => crossEntropy(x(), tf.tensor1d([0, 1, 2], 'int32'), { weight: [1, 2] })).toThrow(
        'crossEntropy: weight shape [2] does not match the 10 classes of input shape [3, 10] (expected [10])',
      );
      expect(() => binaryCrossEntropyWithLogits(x(), x(), { posWeight: [1, 2] })).toThrow(
        'binaryCrossEntropyWithLogits: posWeight shape [2] does not broadcast to input shape [3, 10]',
      );
    });
  });

  it('rejects unknown options and bad values', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(() =>
        crossEntropy(x(), tf.tensor1d([0, 1, 2], 'int32'), { ignore_index: 1 } as any),
      ).toThrow(
        "crossEntropy: unknown option 'ignore_index'; expected one of 'weight', 'ignoreIndex', 'reduction', 'labelSmoothing', 'validateTargets'",
      );
      expect(() => mseLoss(x(), x(), { reduction: 'avg' as any })).toThrow(
        "mseLoss: unknown reduction 'avg'; expected one of 'mean', 'sum', 'none'",
      );
      expect(() => klDiv(x(), x(), { reduction: 'avg' as any })).toThrow(
        "klDiv: unknown reduction 'avg'; expected one of 'mean', 'batchmean', 'sum', 'none'",
      );
      expect(() =>
        crossEntropy(x(), tf.tensor1d([0, 1, 2], 'int32'), { labelSmoothing: 1.5 }),
      ).toThrow('crossEntropy: expected labelSmoothing to be a number in [0, 1], received 1.5');
      expect(() => l1Loss([1, 2] as any, x())).toThrow(
        'l1Loss: expected input to be a tf.Tensor, received an array',
      );
      expect(() => mseLoss(tf.zeros([2], 'int32'), tf.zeros([2]))).toThrow(
        'mseLoss: expected input to be float32, received int32',
      );
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validateTargets: false skips the read-back; ignored targets need no validation', async () => {
    await assertNoLeaks('crossEntropy', async () => {
      const logits = tf.tensor2d([
        [1, 2, 3],
        [1, 1, 1],
      ]);
      const t1 = tf.tensor1d([2, -100], 'int32');
      const t2 = tf.tensor1d([2, 7], 'int32');
      const loss = crossEntropy(logits, t1);
      const alsoLoss = crossEntropy(logits, t2, { validateTargets: false, ignoreIndex: 7 });
      expect(await loss.data()).toEqual(await alsoLoss.data());
      tf.dispose([logits, t1, t2, loss, alsoLoss]);
    });
  });

  it('all-ignored mean is NaN, as in PyTorch', async () => {
    const loss = tf.tidy(() =>
      crossEntropy(tf.zeros([2, 3]), tf.tensor1d([-100, -100], 'int32'), {}),
    );
    expect(Number.isNaN((await loss.data())[0])).toBe(true);
    loss.dispose();
  });

  it('logSoftmax on a non-last axis equals the last-axis result transposed', async () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 100],
      [-100, 0],
    ]);
    const a = logSoftmax(x, 0);
    const b = tf.transpose(logSoftmax(tf.transpose(x)));
    expect(findMismatch(await a.data(), await b.data())).toBeNull();
    tf.dispose([x, a, b]);
  });
});
