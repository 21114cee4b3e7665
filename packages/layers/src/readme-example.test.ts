// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's first example exactly as written (the code between the two marker comments
// is the README's first ```ts block, checked below so the two cannot drift) and checks what its
// comments claim.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it, vi } from 'vitest';

const log = vi.spyOn(console, 'log').mockImplementation(() => {});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, summary } from '@convkit/layers';

await selectBackend();
const model = new Sequential(
  new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, padding: 2 }),
  new ReLU(),
  new MaxPool2d({ kernelSize: 2 }),
  new Flatten(),
  new Linear({ inFeatures: 14 * 14 * 6, outFeatures: 10 }),
);
console.log(summary(model, [1, 28, 28, 1]).text); // shapes, parameter counts, multiply-adds
console.log(Object.keys(model.stateDict())); // ['0.weight', '0.bias', '4.weight', '4.bias']
const logits = tf.tidy(() => model.forward(tf.zeros([8, 28, 28, 1]))); // [8, 10]
model.eval(); // or model.train(), model.freeze(), model.unfreeze()
// README example end

const printed = log.mock.calls.map((call) => call[0]);
log.mockRestore();

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 1 }),
  ).toBeNull();
});

it('prints the summary and the state-dict keys, and gives [8, 10] logits', () => {
  // 6 * 25 + 6 conv parameters, 1176 * 10 + 10 linear parameters.
  expect(printed[0]).toMatch(/total params: 11,926/);
  expect(printed[0]).toMatch(/\[1, 14, 14, 6\]/);
  expect(printed[1]).toEqual(['0.weight', '0.bias', '4.weight', '4.bias']);
  expect(logits.shape).toEqual([8, 10]);
  expect(model.training).toBe(false);
  tf.dispose(logits);
  model.dispose();
});
