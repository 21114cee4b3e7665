// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it, vi } from 'vitest';

const logged: unknown[][] = [];
vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
  logged.push(args);
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { accuracy, crossEntropy, meanIoU } from '@convkit/losses';

await selectBackend({ backend: 'cpu' });
const logits = tf.tensor2d([
  [2, 0.5, -1],
  [0.1, 3, 100],
]);
const labels = tf.tensor1d([0, -100], 'int32'); // -100 is ignored, as in PyTorch
const loss = crossEntropy(logits, labels, { labelSmoothing: 0.1 }); // scalar tf.Tensor
const grad = tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(logits);
console.log(await accuracy(logits, [0, 2])); // 1

// Segmentation: NHWC logits [N, H, W, C], targets [N, H, W]
const seg = tf.randomNormal([1, 4, 4, 3]);
const mask = tf.zeros([1, 4, 4], 'int32');
crossEntropy(seg, mask, { weight: [1, 2, 2], reduction: 'none' }); // [1, 4, 4]
console.log(await meanIoU(seg, mask, { numClasses: 3 }));
// README example end

vi.restoreAllMocks();

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example computes what its comments say', () => {
  // Row 0: PyTorch's label-smoothed loss (1 - eps)(-logp[y]) + eps/C sum_c(-logp[c]); row 1
  // is ignored, so the mean is row 0's loss (weight 1 over one target).
  const row = [2, 0.5, -1];
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  const nll = row.map((v) => lse - v);
  const expected = 0.9 * nll[0] + (0.1 / 3) * nll.reduce((s, v) => s + v, 0);
  expect(loss.shape).toEqual([]);
  expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);

  // Gradient of the mean over the one non-ignored target: softmax - onehot on row 0, 0 on row 1.
  const softmax = row.map((v) => Math.exp(v - lse));
  const g = grad.arraySync() as number[][];
  expect(grad.shape).toEqual([2, 3]);
  g[0].forEach((v, c) => {
    expect(v).toBeCloseTo(softmax[c] - (c === 0 ? 1 : 0), 6);
  });
  expect(g[1].map(Math.abs)).toEqual([0, 0, 0]); // -0 from the masked row

  expect(logged[0]).toEqual([1]);
  // The mask is all class 0: IoU(0) = pixels predicted 0 / 16; classes 1 and 2 are absent
  // from the target, so they score 0 where predicted and are left out (null) otherwise.
  const argmax = tf.argMax(seg, -1);
  const predicted = argmax.dataSync();
  const counts = [0, 1, 2].map((c) => predicted.filter((p) => p === c).length);
  const perClass = [counts[0] / 16, ...counts.slice(1).map((n) => (n > 0 ? 0 : null))];
  const present = perClass.filter((v): v is number => v !== null);
  const { meanIoU: miou, perClass: got } = logged[1][0] as Awaited<ReturnType<typeof meanIoU>>;
  expect(got).toEqual(perClass);
  expect(miou).toBeCloseTo(present.reduce((a, b) => a + b, 0) / present.length, 6);

  const perPixel = crossEntropy(seg, mask, { weight: [1, 2, 2], reduction: 'none' });
  expect(perPixel.shape).toEqual([1, 4, 4]);
  tf.dispose([logits, labels, loss, grad, seg, mask, perPixel, argmax]);
});
