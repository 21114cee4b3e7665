import { findMismatch, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from './adam';

// A tfjs-layers model trains with a convkit optimizer: `model.trainableWeights[i].read()` is the
// layer's underlying tf.Variable (same name), so tf.variableGrads over those variables gives the
// NamedTensorMap `step` expects.
describe('training a tfjs-layers model with convkit Adam', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('the loss decreases and the weights match the same Adam on plain tf.Variables', () => {
    const model = tfl.sequential({
      layers: [
        // Seeded initializers: the test is deterministic (unseeded, a rare draw learns slowly).
        tfl.layers.dense({
          units: 8,
          activation: 'tanh',
          inputShape: [3],
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 7 }),
        }),
        tfl.layers.dense({
          units: 1,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 8 }),
        }),
      ],
    });
    const x = tf.tensor2d([
      [0.1, -0.2, 0.3],
      [0.5, 0.4, -0.6],
      [-0.7, 0.8, 0.2],
      [0.3, 0.3, 0.3],
      [-0.5, -0.1, 0.9],
    ]);
    const y = tf.tensor2d([[0.5], [-0.3], [0.8], [0.1], [-0.6]]);
    const layerVars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const plain = model.getWeights().map((w) => tf.variable(w.clone()));
    const modelLoss = () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const plainLoss = () => {
      const [w1, b1, w2, b2] = plain;
      const out = tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2);
      return tf.losses.meanSquaredError(y, out) as tf.Scalar;
    };
    const onModel = new Adam(layerVars, { lr: 0.05 });
    const onPlain = new Adam(plain, { lr: 0.05 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const cost = onModel.minimize(modelLoss, true)!;
      losses.push(cost.dataSync()[0]);
      cost.dispose();
      onPlain.minimize(plainLoss);
    }
    console.log(
      `tfjs-layers + convkit Adam: loss ${losses[0].toFixed(4)} -> ${losses[29].toFixed(4)}`,
    );
    expect(losses[29]).toBeLessThan(losses[0] * 0.5);
    model.getWeights().forEach((w, i) => {
      expect(
        findMismatch(w.dataSync(), plain[i].dataSync(), { rtol: 1e-5, atol: 1e-6 }),
      ).toBeNull();
    });
    onModel.dispose();
    onPlain.dispose();
    tf.dispose([x, y, plain]);
    model.dispose();
  });
});
