import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './backend-unavailable-error';
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

describe('selectBackend errors', () => {
  it('names the package and the install command when an explicit backend is missing', async () => {
    const attempt = selectBackend({ backend: 'cuda' });
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(selectBackend({ backend: 'cuda' })).rejects.toThrow(
      "backend 'cuda' needs the optional package @tensorflow/tfjs-node-gpu, which is not installed. Install it with: npm install @tensorflow/tfjs-node-gpu",
    );
    await expect(selectBackend({ backend: 'tensorflow' })).rejects.toThrow(
      'npm install @tensorflow/tfjs-node@',
    );
  });

  it('rejects an unknown backend name with the accepted ones', async () => {
    await expect(selectBackend({ backend: 'metal' as never })).rejects.toThrow(
      "selectBackend: unknown backend 'metal'; expected 'auto' or one of cuda, tensorflow, webgpu, wasm, cpu",
    );
  });

  it('tries a list in order and records why earlier ones were skipped', async () => {
    const report = await selectBackend({ backend: ['tensorflow', 'cpu'] });
    expect(report.backend).toBe('cpu');
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0].backend).toBe('tensorflow');
    expect(formatBackendReport(report)).toContain('skipped tensorflow: ');
  });
});
