import { assertNoLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from './__fixtures__/metrics.json';
import {
  accuracy,
  confusionMatrix,
  meanIoU,
  multiLabelAccuracy,
  multiLabelF1,
  precisionRecallF1,
  rocAuc,
  topKAccuracy,
} from './index';

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-12);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) close(a[i], b[i]);
};

beforeAll(async () => {
  await useBackend('cpu');
});

describe.each(fixtures.multiclass.map((c, i) => ({ ...c, i })))(
  'multiclass case $i ($numClasses classes)',
  (c) => {
    const k = c.numClasses;
    it('accuracy from scores (tensor) and from labels (array)', async () => {
      const scores = tf.tensor2d(c.scores);
      const target = tf.tensor1d(c.target, 'int32');
      const acc = await assertNoLeaks('accuracy', () => accuracy(scores, target));
      close(acc, c.accuracy);
      close(await accuracy(c.pred, c.target), c.accuracy);
      tf.dispose([scores, target]);
    });
    it('topKAccuracy for every k', async () => {
      for (const [kk, expected] of Object.entries(c.topK)) {
        close(await topKAccuracy(c.scores, c.target, { k: Number(kk) }), expected);
      }
    });
    it('confusionMatrix', async () => {
      expect(await confusionMatrix(c.scores, c.target, { numClasses: k })).toEqual(c.confusion);
    });
    it.each(['macro', 'micro', 'weighted'] as const)('precisionRecallF1 %s', async (average) => {
      const r = await precisionRecallF1(c.scores, c.target, { numClasses: k, average });
      const e = c.prf[average];
      close(r.precision, e.precision);
      close(r.recall, e.recall);
      close(r.f1, e.f1);
      closeAll(r.perClass.precision, c.prf.none.precision);
      closeAll(r.perClass.recall, c.prf.none.recall);
      closeAll(r.perClass.f1, c.prf.none.f1);
      expect(r.perClass.support).toEqual(c.prf.none.support);
    });
  },
);

describe.each(fixtures.multilabel.map((c, i) => ({ ...c, i })))(
  'multilabel case $i threshold $threshold',
  (c) => {
    it('subset and label accuracy', async () => {
      const x = tf.tensor2d(c.probabilities);
      const t = tf.tensor2d(c.target);
      await assertNoLeaks('multiLabelAccuracy', async () => {
        close(await multiLabelAccuracy(x, t, { threshold: c.threshold }), c.subsetAccuracy);
        close(
          await multiLabelAccuracy(x, t, { threshold: c.threshold, criterion: 'label' }),
          c.labelAccuracy,
        );
      });
      tf.dispose([x, t]);
    });
    it('F1 macro and micro', async () => {
      const macro = await multiLabelF1(c.probabilities, c.target, { threshold: c.threshold });
      close(macro.f1, c.f1.macro);
      closeAll(macro.perClass, c.f1.none);
      close(
        (
          await multiLabelF1(c.probabilities, c.target, {
            threshold: c.threshold,
            average: 'micro',
          })
        ).f1,
        c.f1.micro,
      );
    });
  },
);

describe('rocAuc', () => {
  it.each(fixtures.rocAuc.map((c, i) => ({ ...c, i })))(
    'case $i (ties handled as sklearn)',
    async (c) => {
      close(await rocAuc(c.scores, c.target), c.auc);
    },
  );
  it('sklearn documentation example = 0.75; all tied = 0.5', async () => {
    expect(await rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 15);
    expect(await rocAuc([0.3, 0.3, 0.3], [0, 1, 1])).toBe(0.5);
  });
  it('one class only is an error', async () => {
    await expect(rocAuc([0.1, 0.2], [1, 1])).rejects.toThrow(
      'rocAuc: only one class is present in target (2 positive, 0 negative); the ROC AUC is undefined',
    );
  });
});

describe('meanIoU', () => {
  it.each(fixtures.meanIoU.map((c, i) => ({ ...c, i })))(
    'case $i: NHWC scores, ignored pixels, absent classes',
    async (c) => {
      const [n, h, w] = c.shape;
      const scores = tf.tensor4d(c.scores.flat(), [n, h, w, c.numClasses]);
      const target = tf.tensor3d(c.target, [n, h, w], 'int32');
      const r = await assertNoLeaks('meanIoU', () =>
        meanIoU(scores, target, { numClasses: c.numClasses, ignoreIndex: c.ignoreIndex }),
      );
      close(r.meanIoU, c.meanIoU);
      expect(r.perClass.map((v) => v === null)).toEqual(c.perClass.map((v) => v === null));
      r.perClass.forEach((v, j) => {
        if (v !== null) close(v, c.perClass[j]!);
      });
      tf.dispose([scores, target]);
    },
  );
  it('hand-computed: perfect class 0, half class 1, class 2 absent', async () => {
    const r = await meanIoU([0, 0, 1, 0], [0, 0, 1, 1], { numClasses: 3 });
    // class 0: TP 2, FP 1 -> 2/3; class 1: TP 1, FN 1 -> 1/2; class 2: absent
    expect(r.perClass).toEqual([2 / 3, 1 / 2, null]);
    close(r.meanIoU, (2 / 3 + 1 / 2) / 2);
  });
});

describe('metric input errors', () => {
  it('shape mismatch names both shapes', async () => {
    await expect(accuracy([[1, 2]], [0, 1])).rejects.toThrow(
      'accuracy: input shape [1, 2] does not match target shape [2] (expected [2] for labels or [2, C] for scores)',
    );
    await expect(topKAccuracy([[1, 2]], [0], { k: 3 })).rejects.toThrow(
      'topKAccuracy: expected k to be an integer in [1, 2], received 3',
    );
  });
  it('labels out of range', async () => {
    await expect(confusionMatrix([0, 1], [0, 3], { numClasses: 3 })).rejects.toThrow(
      'confusionMatrix: target value 3 at flat index 1 is out of range for 3 classes (expected an integer in [0, 2])',
    );
  });
  it('unknown option keys', async () => {
    await expect(
      precisionRecallF1([0], [0], { numClasses: 2, averaging: 'macro' } as any),
    ).rejects.toThrow(
      "precisionRecallF1: unknown option 'averaging'; expected one of 'numClasses', 'average'",
    );
    await expect(multiLabelF1([[1]], [[1]], { average: 'samples' as any })).rejects.toThrow(
      "multiLabelF1: unknown average 'samples'; expected 'macro' or 'micro'",
    );
  });
});
