import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { formatBackendReport, selectBackend } from './select-backend';

describe('selectBackend', () => {
  it('auto in Node skips cuda and tensorflow with the reason and chooses wasm', async () => {
    const report = await selectBackend();
    expect(report.backend).toBe('wasm');
    expect(report.skipped.map((s) => s.backend)).toEqual(['cuda', 'tensorflow']);
    expect(report.skipped[0].reason).toContain('@tensorflow/tfjs-node-gpu');
    expect(report.skipped[0].reason).toContain('npm install @tensorflow/tfjs-node-gpu');
    console.log(formatBackendReport(report));
  });

  it('registers gradients', async () => {
    await selectBackend({ backend: 'cpu' });
    const g = tf.grad((x: tf.Tensor) => x.square().sum())(tf.tensor([1, 2, 3]));
    expect(Array.from(await g.data())).toEqual([2, 4, 6]);
  });
});
