import { assertNoLeaks } from '@convkit/backend';
import { findMismatch, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from './__fixtures__/clip.json';
import { clipGradNorm, clipGradValue } from './clip-grad';

const grads = () => fixtures.grads.map((g, i) => tf.tensor(g, fixtures.shapes[i]));

describe('clipGradNorm / clipGradValue vs torch.nn.utils', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  for (const c of fixtures.norm) {
    it(`maxNorm ${c.maxNorm}, normType ${c.normType}: total norm and clipped gradients`, async () => {
      const list = grads();
      const map: tf.NamedTensorMap = Object.fromEntries(grads().map((g, i) => [`g${i}`, g]));
      const normType = c.normType === 'inf' ? 'inf' : (c.normType as number);
      const total = await assertNoLeaks('clipGradNorm', () =>
        clipGradNorm(list, c.maxNorm, normType),
      );
      const totalMap = clipGradNorm(map, c.maxNorm, normType);
      expect(findMismatch(total.dataSync(), [c.totalNorm], { rtol: 1e-6 })).toBeNull();
      expect(totalMap.dataSync()[0]).toBe(total.dataSync()[0]);
      c.clipped.forEach((expected, i) => {
        expect(findMismatch(list[i].dataSync(), expected, { rtol: 1e-6, atol: 1e-7 })).toBeNull();
        expect(Array.from(map[`g${i}`].dataSync())).toEqual(Array.from(list[i].dataSync()));
      });
      tf.dispose([list, map, total, totalMap]);
    });
  }

  for (const c of fixtures.value) {
    it(`clipValue ${c.clipValue}`, () => {
      const list = grads();
      clipGradValue(list, c.clipValue);
      c.clipped.forEach((expected, i) => {
        expect(Array.from(list[i].dataSync())).toEqual(expected.map(Math.fround));
      });
      tf.dispose(list);
    });
  }

  it('errors', () => {
    expect(() => clipGradNorm([], -1)).toThrow('clipGradNorm: maxNorm must be >= 0, received -1');
    expect(() => clipGradNorm([], 1, 0)).toThrow(
      "clipGradNorm: normType must be > 0 or 'inf', received 0",
    );
  });
});
