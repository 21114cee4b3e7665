import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { interpolate } from './functional/interpolate';
import { Upsample } from './upsample';

describe('Upsample vs PyTorch', () => checkConvPoolCases('upsample-'));

describe('Upsample options and shapes', () => {
  it('rejects bad options, echoing the value', () => {
    expect(() => new Upsample({})).toThrow(
      'Upsample: expected exactly one of size and scaleFactor, received size undefined and scaleFactor undefined',
    );
    expect(() => new Upsample({ size: 4, scaleFactor: 2 })).toThrow(
      'Upsample: expected exactly one of size and scaleFactor',
    );
    expect(() => new Upsample({ scaleFactor: -2 })).toThrow(
      'Upsample: expected scaleFactor to be a positive number or a pair of them, received -2',
    );
    expect(() => new Upsample({ scaleFactor: 2, mode: 'bicubic' as never })).toThrow(
      `Upsample: expected mode 'nearest' or 'bilinear', received "bicubic"`,
    );
    expect(() => new Upsample({ scaleFactor: 2, alignCorners: true })).toThrow(
      "Upsample: alignCorners only applies to mode 'bilinear'",
    );
  });

  it('names the layer and the shape in input errors', async () => {
    await useBackend('cpu');
    const up = new Upsample({ scaleFactor: 0.5, mode: 'bilinear' });
    expect(up.toJSON().config).toEqual({ scaleFactor: 0.5, mode: 'bilinear', alignCorners: false });
    expect(() => up.outputShape([1, 1, 4, 2])).toThrow(
      'Upsample: scaleFactor 0.5 gives an empty output on axis H of input shape [1,1,4,2]',
    );
    expect(() => up.forward(tf.zeros([4, 4]))).toThrow(
      'Upsample: expected a rank-4 NHWC input, received shape [4,4]',
    );
    expect(() => interpolate(tf.zeros([1, 2, 2, 1]), { size: [0, 2] })).toThrow(
      'interpolate: expected size to be an integer >= 1 or a pair of them, received [0,2]',
    );
  });

  it('matches finite differences of its own forward (bilinear, align corners false)', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 3, 4, 1], 0, 1, 'float32', 3);
    const w = tf.randomNormal([1, 5, 7, 1], 0, 1, 'float32', 4);
    const f = (t: tf.Tensor) =>
      tf.sum(tf.mul(interpolate(t, { size: [5, 7], mode: 'bilinear' }), w));
    const g = await tf.grad(f)(x).data();
    const base = await x.data();
    const eps = 1e-2;
    for (let i = 0; i < base.length; i++) {
      const plus = Float32Array.from(base);
      plus[i] += eps;
      const minus = Float32Array.from(base);
      minus[i] -= eps;
      const fp = (await f(tf.tensor(plus, x.shape)).data())[0];
      const fm = (await f(tf.tensor(minus, x.shape)).data())[0];
      expect(g[i]).toBeCloseTo((fp - fm) / (2 * eps), 2);
    }
  });
});
