import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertNoLeaks, measureLeaks, TensorScope, withTensorScope } from './memory';
import { selectBackend } from './select-backend';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('tensor scopes', () => {
  it('disposes what was tracked across awaits, and keeps the returned tensors', async () => {
    const before = tf.memory().numTensors;
    const result = await withTensorScope(async (scope) => {
      const a = scope.track(tf.ones([3]));
      await tick();
      const b = scope.track(a.mul(2));
      await tick();
      return b.sum();
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect((await result.data())[0]).toBe(6);
    result.dispose();
  });

  it('never touches tensors of concurrent code', async () => {
    const outside = tf.ones([2]);
    await withTensorScope(async (scope) => {
      scope.track(tf.zeros([2]));
      await tick();
    });
    expect(outside.isDisposed).toBe(false);
    outside.dispose();
  });

  it('disposes tracked tensors when the function throws', async () => {
    const before = tf.memory().numTensors;
    await expect(
      withTensorScope(async (scope) => {
        scope.track([tf.ones([2]), { x: tf.zeros([2]) }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps a tensor released with keep, and refuses tracking after close', () => {
    const scope = new TensorScope();
    const kept = scope.keep(scope.track(tf.ones([1])));
    const dropped = scope.track(tf.ones([1]));
    scope.close();
    expect(kept.isDisposed).toBe(false);
    expect(dropped.isDisposed).toBe(true);
    expect(() => scope.track(kept)).toThrow('TensorScope.track: the scope is already closed');
    kept.dispose();
  });
});

describe('leak checks', () => {
  it('counts leaked tensors and bytes, not returned ones', async () => {
    let leaked: tf.Tensor | undefined;
    const report = await measureLeaks(() => {
      leaked = tf.zeros([10]);
      return tf.ones([3]);
    });
    expect(report.leakedTensors).toBe(1);
    expect(report.leakedBytes).toBe(40);
    tf.dispose([leaked!, report.result]);
  });

  it('assertNoLeaks names the label and the count', async () => {
    let leaked: tf.Tensor | undefined;
    await expect(
      assertNoLeaks('training step', async () => {
        leaked = tf.zeros([2]);
      }),
    ).rejects.toThrow('training step: leaked 1 tensor(s), 8 bytes');
    leaked!.dispose();
    await expect(
      assertNoLeaks('clean', () => tf.tidy(() => tf.ones([2]).add(1).sum()).dispose()),
    ).resolves.toBeUndefined();
  });
});
