// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's third example exactly as written (the code between the two marker comments
// is the README's third ```ts block, checked below so the two cannot drift) and checks what its
// comments claim.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it } from 'vitest';

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { BatchNorm2d, Concat } from '@convkit/layers';

await selectBackend();
const bn = new BatchNorm2d({ numFeatures: 64 }); // keys weight, bias, running_mean, running_var, num_batches_tracked
bn.train(); // batch statistics; running_mean/var updated (variance unbiased), as PyTorch
bn.eval(); // running statistics; model.freeze() does the same even in train mode
const cat = new Concat(); // Inception: the branches' channels side by side
const joined = tf.tidy(() => cat.forward(tf.ones([1, 7, 7, 64]), tf.zeros([1, 7, 7, 32]))); // [1, 7, 7, 96]
// README example end

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 3 }),
  ).toBeNull();
});

it('has the keys the comment names, ends in eval mode, and concatenates channels', () => {
  expect(Object.keys(bn.stateDict())).toEqual([
    'weight',
    'bias',
    'running_mean',
    'running_var',
    'num_batches_tracked',
  ]);
  expect(bn.training).toBe(false);
  expect(joined.shape).toEqual([1, 7, 7, 96]);
  const [ones, zeros] = tf.split(joined, [64, 32], -1);
  expect(ones.min().dataSync()[0]).toBe(1);
  expect(zeros.max().dataSync()[0]).toBe(0);
  tf.dispose([joined, ones, zeros]);
  bn.dispose();
});
