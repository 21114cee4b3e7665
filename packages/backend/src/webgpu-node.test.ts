import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './select-backend';

// Dawn (the npm `webgpu` package) on SwiftShader: Debian's chromium ships the Vulkan ICD. Mesa's
// lavapipe is rejected by Dawn. SwiftShader is slow, so the shapes stay tiny.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('webgpu in Node, on request', () => {
  it('is never chosen by auto in Node', async () => {
    const { AUTO_ORDER } = await import('./backend-names');
    expect(AUTO_ORDER.node).not.toContain('webgpu');
  });

  it('loads through the webgpu package and matches cpu on a small conv', async () => {
    expect(
      existsSync(SWIFTSHADER_ICD),
      `missing ${SWIFTSHADER_ICD}: apt-get install -y chromium`,
    ).toBe(true);
    process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
    // Async reads only: webgpu's dataSync needs OffscreenCanvas, which Node lacks.
    const run = async () => {
      const [out, grad] = tf.tidy(() => {
        const x = tf.tensor4d(
          Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)),
          [2, 5, 5, 3],
        );
        const w = tf.tensor4d(
          Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
          [3, 3, 3, 4],
        );
        const g = tf.grad((f) =>
          tf
            .conv2d(x, f as tf.Tensor4D, 1, 'same')
            .square()
            .sum(),
        )(w);
        return [tf.conv2d(x, w, 2, 'same'), g];
      });
      const values = [Array.from(await out.data()), Array.from(await grad.data())];
      tf.dispose([out, grad]);
      return values;
    };
    const report = await selectBackend({ backend: 'webgpu' });
    expect(report.backend).toBe('webgpu');
    expect(report.device).toMatch(/^WebGPU adapter: .+/);
    expect(report.capabilities.canTrainConvNets).toBe(true);
    const [out, grad] = await run();
    await selectBackend({ backend: 'cpu' });
    const [refOut, refGrad] = await run();
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(refOut[i], 4);
    for (let i = 0; i < grad.length; i++) {
      expect(Math.abs(grad[i] - refGrad[i])).toBeLessThan(1e-4 * (1 + Math.abs(refGrad[i])));
    }
  });
});
