import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fixture, loadFixtureModel, tensorOf } from './__fixtures__/models';
import { maximizeActivation } from './activation-maximization';
import { FourierBasis, roll, zoom } from './internal/image-ops';
import { reconstruct } from './reconstruction';

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

async function stateValues(model: { stateDict(): Record<string, tf.Tensor> }) {
  return Promise.all(Object.values(model.stateDict()).map(async (t) => Array.from(await t.data())));
}

describe('differentiable transforms', () => {
  it('roll, zoom and the Fourier image are linear with exact adjoint gradients', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const basis = new FourierBasis(6, 5, 2);
    const re = tf.randomNormal([2, 6, 5], 0, 1, 'float32', 3) as tf.Tensor3D;
    for (const op of [(t: tf.Tensor4D) => roll(t, 2, -1), (t: tf.Tensor4D) => zoom(t, 1.3)]) {
      const u = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 2);
      // <op(x), u> = <x, op^T u>, and op^T u is the gradient of <op(x), u>.
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t as tf.Tensor4D), u)))(x);
      const lhs = (await tf.sum(tf.mul(op(x), u)).data())[0];
      const rhs = (await tf.sum(tf.mul(x, g)).data())[0];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
    }
    // The Fourier image of a single frequency is a cosine; its sum is 0 unless DC.
    const dc = tf.tidy(() =>
      basis.image(
        tf.oneHot([0], 30).reshape([1, 6, 5]).tile([2, 1, 1]) as tf.Tensor3D,
        tf.zeros([2, 6, 5]),
      ),
    );
    const values = Array.from(await dc.data());
    expect(Math.max(...values) - Math.min(...values)).toBeLessThan(1e-5); // DC is constant
    tf.dispose([x, re, dc]);
    basis.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)(
  'reconstruction and activation maximization (%s)',
  (backend) => {
    it('reconstruction lowers the feature loss, keeps the model, leaks nothing', async () => {
      await useBackend(backend);
      const model = loadFixtureModel('convNet');
      model.train(); // restored afterwards
      const x = tensorOf(fixture.convNet.input);
      const target = tf.slice(x, [0], [1]);
      const before = await stateValues(model);
      const { result, leakedTensors } = await measureLeaks(() =>
        reconstruct(model, target, { layer: '1', steps: 60, range: [-3, 3], learningRate: 0.1 }),
      );
      expect(leakedTensors).toBe(0);
      const { image, losses, featureLosses } = result;
      expect(image.shape).toEqual([1, 8, 8, 3]);
      expect(losses).toHaveLength(60);
      expect(mean(featureLosses.slice(-10))).toBeLessThan(0.25 * mean(featureLosses.slice(0, 5)));
      expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
      expect(await stateValues(model)).toEqual(before);
      expect(model.training).toBe(true);
      expect(model.getSubmodule('0').training).toBe(true);
      await expect(reconstruct(model, x, { layer: '1' })).rejects.toThrow(
        "reconstruct: argument 'target' must be one image [1, H, W, C]; received [2, 8, 8, 3]",
      );
      await expect(reconstruct(model, target, { layer: 'conv9' })).rejects.toThrow(
        /valid paths: 0, 1, 2/,
      );
      tf.dispose([x, target, image]);
      model.dispose();
    });

    it.each(['pixel', 'fourier'] as const)(
      'activation maximization (%s) raises its objective',
      async (parameterization) => {
        await useBackend(backend);
        const model = loadFixtureModel('resnetBlock');
        const { result, leakedTensors } = await measureLeaks(() =>
          maximizeActivation(model, {
            inputShape: [8, 8, 3],
            objective: { layer: '3', channel: 2 },
            steps: 40,
            learningRate: 0.1,
            range: [-2, 2],
            parameterization,
            transforms: { jitter: 1, scale: [0.95, 1, 1.05], rotate: [-5, 0, 5] },
            tvWeight: 0.01,
            l2Weight: 0.01,
            blurEvery: parameterization === 'pixel' ? 10 : 0,
          }),
        );
        expect(leakedTensors).toBe(0);
        const { image, objectives } = result;
        expect(mean(objectives.slice(-5))).toBeGreaterThan(mean(objectives.slice(0, 5)) + 0.1);
        const values = Array.from(await image.data());
        expect(Math.min(...values)).toBeGreaterThanOrEqual(-2);
        expect(Math.max(...values)).toBeLessThanOrEqual(2);
        image.dispose();
        model.dispose();
      },
    );

    it('logit and unit objectives, and errors that name the option', async () => {
      await useBackend(backend);
      const model = loadFixtureModel('convNet');
      const logit = await maximizeActivation(model, {
        inputShape: [1, 8, 8, 3],
        objective: { logit: 3 },
        steps: 25,
      });
      expect(mean(logit.objectives.slice(-5))).toBeGreaterThan(mean(logit.objectives.slice(0, 5)));
      const unit = await maximizeActivation(model, {
        inputShape: [8, 8, 3],
        objective: { layer: '3', unit: [1, 2, 3] },
        steps: 25,
      });
      expect(mean(unit.objectives.slice(-5))).toBeGreaterThan(mean(unit.objectives.slice(0, 5)));
      const before = tf.memory().numTensors;
      await expect(
        maximizeActivation(model, { inputShape: [8, 8, 3], objective: { layer: '4', channel: 6 } }),
      ).rejects.toThrow(
        "maximizeActivation: option 'objective.channel' must be in [0, 5]; received 6",
      );
      await expect(
        maximizeActivation(model, { inputShape: [8, 8, 3], objective: { logit: 5 } }),
      ).rejects.toThrow(
        "maximizeActivation: option 'objective.logit' must be in [0, 4]; received 5",
      );
      await expect(
        maximizeActivation(model, { inputShape: [8, 8, 3], objective: { layer: '4', unit: 2 } }),
      ).rejects.toThrow(
        "maximizeActivation: option 'objective.unit' must index the layer's output [1, 4, 4, 6] without the batch axis (3 numbers); received 2",
      );
      await expect(
        maximizeActivation(model, { inputShape: [8, 8, 1], objective: { logit: 1 } }),
      ).rejects.toThrow(
        /maximizeActivation: option 'inputShape' \[1, 8, 8, 1\] does not fit the model/,
      );
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logit.image, unit.image]);
      model.dispose();
    });
  },
);
