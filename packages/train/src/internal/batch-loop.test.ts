import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { meanMetric } from '../metrics';
import { batchLoop, RunningMeans } from './batch-loop';

beforeAll(async () => {
  await useBackend('cpu');
});

async function* batches(n: number) {
  for (let i = 0; i < n; i++) yield { x: tf.fill([2], i), y: tf.fill([2], -i) };
}

describe('batchLoop', () => {
  it('runs each batch, frees the batches it owns, and stops when after says', async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const ran = await batchLoop({
      data: batches(5),
      owns: true,
      before: async (index) => void seen.push(-index),
      run: (value, index) => (value as { x: tf.Tensor }).x.dataSync()[0] + index,
      after: (result, index) => {
        seen.push(result);
        return index === 2;
      },
    });
    expect(ran).toBe(3);
    expect(seen).toEqual([-0, 0, -1, 2, -2, 4]);
    // The generator's pending batch was never made; every batch handed over was freed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees an owned batch when run throws, and leaves borrowed batches alone', async () => {
    const before = tf.memory().numTensors;
    await expect(
      batchLoop({
        data: batches(2),
        owns: true,
        run: () => {
          throw new Error('bad batch');
        },
        after: () => false,
      }),
    ).rejects.toThrow('bad batch');
    expect(tf.memory().numTensors).toBe(before);
    const kept = [{ x: tf.ones([1]), y: tf.ones([1]) }];
    await batchLoop({ data: kept, owns: false, run: () => 0, after: () => false });
    expect(kept[0].x.isDisposed).toBe(false);
    tf.dispose([kept[0].x, kept[0].y]);
  });

  it('stops on an aborted signal, freeing the batch it drew', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let aborted = 0;
    const ran = await batchLoop({
      data: batches(4),
      owns: true,
      signal: controller.signal,
      onAbort: () => {
        aborted += 1;
      },
      run: () => 0,
      after: (_, index) => {
        if (index === 1) controller.abort();
        return false;
      },
    });
    expect(ran).toBe(2);
    expect(aborted).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('RunningMeans', () => {
  it('weights the loss by batch size and sums the statistics of each metric at its offset', () => {
    const mean = (p: tf.Tensor) => tf.mean(p);
    const means = new RunningMeans([meanMetric('a', mean), meanMetric('b', mean)]);
    expect(means.loss).toBeNaN();
    // [loss, a's sum, a's count, b's sum, b's count]
    means.add(2, [1, 3, 2, 10, 2], [2, 2]);
    means.add(6, [3, 9, 6, 4, 6], [2, 2]);
    expect(means.samples).toBe(8);
    expect(means.loss).toBeCloseTo((1 * 2 + 3 * 6) / 8, 12);
    expect(means.results()).toEqual({ a: 12 / 8, b: 14 / 8 });
  });
});
