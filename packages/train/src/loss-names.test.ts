import { manualSeed } from '@convkit/backend';
import { Linear } from '@convkit/layers';
import * as losses from '@convkit/losses';
import { SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fit } from './fit';
import { resolveLoss } from './internal/loss';
import type { Batch } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

/** y = 2x - 1 with a little noise, in batches of 16. */
function regressionBatches(): Batch[] {
  return tf.tidy(() => {
    const x = tf.linspace(-1, 1, 64).reshape([64, 1]);
    const y = tf.sub(tf.mul(x, 2), 1);
    return [0, 16, 32, 48].map((s) => ({
      x: tf.keep(x.slice([s, 0], [16, 1])),
      y: tf.keep(y.slice([s, 0], [16, 1])),
    }));
  });
}

describe('loss names in fit', () => {
  it("trains a regression with 'mse' (PyTorch's and Keras's short name)", async () => {
    manualSeed(0);
    const model = new Linear(1, 1);
    const batches = regressionBatches();
    const before = tf.memory().numTensors;
    const result = await fit(model, {
      data: batches,
      optimizer: new SGD(model.trainableVariables(), { lr: 0.1 }),
      loss: 'mse',
      metrics: [],
      epochs: 20,
    });
    const [first, last] = [result.history[0].loss, result.history.at(-1)!.loss];
    expect(last).toBeLessThan(first / 10);
    expect(tf.memory().numTensors).toBe(before);
    for (const b of batches) tf.dispose([b.x, b.y]);
    model.dispose();
  });

  it('resolves every loss of @convkit/losses by its export name', () => {
    const exported = Object.entries(losses).filter(
      ([name, value]) => typeof value === 'function' && /Loss$|Entropy|^klDiv$/.test(name),
    );
    expect(exported.length).toBeGreaterThanOrEqual(12);
    for (const [name] of exported) {
      expect(() => resolveLoss(name as never), name).not.toThrow();
    }
  });

  it("refuses an unknown fit option (Keras's verbose) with the valid ones", async () => {
    const model = new Linear(1, 1);
    const batches = regressionBatches();
    await expect(
      fit(model, {
        data: batches,
        optimizer: new SGD(model.trainableVariables(), { lr: 0.1 }),
        // @ts-expect-error Keras's option, not fit's
        verbose: 0,
      }),
    ).rejects.toThrow(/fit: unknown option 'verbose'\. Valid: data, optimizer, epochs/);
    for (const b of batches) tf.dispose([b.x, b.y]);
    model.dispose();
  });

  it('refuses an unknown name with the nearest valid one', () => {
    expect(() => resolveLoss('meanSquaredError' as never)).toThrow(
      /loss: unknown loss 'meanSquaredError'/,
    );
    expect(() => resolveLoss('crossEntrpy' as never)).toThrow(
      /unknown loss 'crossEntrpy'; did you mean 'crossEntropy'\?/,
    );
    expect(() => resolveLoss(42 as never)).toThrow(/expected a loss name .* received 42/);
  });
});
