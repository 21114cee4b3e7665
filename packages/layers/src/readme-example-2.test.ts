// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's second example exactly as written (the code between the two marker
// comments is the README's second ```ts block, checked below so the two cannot drift) and
// checks what its comments claim.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it } from 'vitest';

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { convOutputSize, MaxPool2d, MaxUnpool2d } from '@convkit/layers';

await selectBackend();

convOutputSize(32, { kernelSize: 5 }); // 28 (LeNet)
convOutputSize(224, { kernelSize: 11, stride: 4, padding: 2 }); // 55 (AlexNet)
convOutputSize(14, { kernelSize: 3, stride: 2, ceilMode: true }); // 7 (GoogLeNet)

// SegNet-style: pool with indices (PyTorch's h·W + w per channel), then unpool.
const pool = new MaxPool2d({ kernelSize: 2, returnIndices: true });
const unpool = new MaxUnpool2d({ kernelSize: 2 });
const x = tf.randomNormal([1, 4, 4, 3]);
const [pooled, indices] = pool.forwardWithIndices(x); // [1, 2, 2, 3] each; indices int32
const restored = unpool.forward(pooled, indices); // [1, 4, 4, 3]: the maxima in place, zeros elsewhere
// README example end

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 2 }),
  ).toBeNull();
});

it('gives the sizes in the comments', () => {
  expect(convOutputSize(32, { kernelSize: 5 })).toBe(28);
  expect(convOutputSize(224, { kernelSize: 11, stride: 4, padding: 2 })).toBe(55);
  expect(convOutputSize(14, { kernelSize: 3, stride: 2, ceilMode: true })).toBe(7);
});

it('pools with PyTorch-style indices and unpools the maxima into place', async () => {
  expect(pooled.shape).toEqual([1, 2, 2, 3]);
  expect(indices.shape).toEqual([1, 2, 2, 3]);
  expect(indices.dtype).toBe('int32');
  expect(restored.shape).toEqual([1, 4, 4, 3]);
  const input = (await x.array()) as number[][][][];
  const out = (await restored.array()) as number[][][][];
  const idx = (await indices.array()) as number[][][][];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const window = [0, 1].flatMap((a) => [0, 1].map((b) => input[0][2 * i + a][2 * j + b][c]));
        const max = Math.max(...window);
        const h = Math.floor(idx[0][i][j][c] / 4);
        const w = idx[0][i][j][c] % 4;
        // The index is h·W + w of the window's maximum; the unpooled map holds it there.
        expect(input[0][h][w][c]).toBe(max);
        expect(out[0][h][w][c]).toBe(max);
      }
    }
  }
  const nonZero = out.flat(3).filter((v) => v !== 0).length;
  expect(nonZero).toBe(12); // 4 windows x 3 channels, zeros elsewhere
  tf.dispose([x, pooled, indices, restored]);
});
