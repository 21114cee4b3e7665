// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
// The only wrapping: the example reads resnet18.safetensors from the working directory, so a
// torchvision-layout file (keys and shapes from the fixture, formula values in place of the
// real checkpoint, which is not in the repository) is written to a temporary directory first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend as selectBackendForSetup } from '@convkit/backend';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { saveSafetensorsFile } from '@convkit/weights';
import { dispose as disposeSetup, scalar, tensor, type Tensor } from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { fixture, formulaValues } from './__fixtures__/harness';

const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'zoo-readme-'));
await selectBackendForSetup({ backend: 'wasm' });
const checkpoint: Record<string, Tensor> = {};
for (const [k, [key, shape]] of fixture.models.resnet18.keys.entries()) {
  checkpoint[key] = key.endsWith('num_batches_tracked')
    ? scalar(0, 'int32')
    : tensor(formulaValues(key, k, shape, 1), shape);
}
await saveSafetensorsFile(join(directory, 'resnet18.safetensors'), checkpoint);
disposeSetup(Object.values(checkpoint));
process.chdir(directory);

afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { summary } from '@convkit/layers';
import { readSafetensorsFile } from '@convkit/weights';
import { loadPyTorchStateDict, resnet18 } from '@convkit/zoo';

await selectBackend(); // wasm / webgpu / tfjs-node, whichever is best here
const model = resnet18(); // { numClasses: 1000, inChannels: 3, zeroInitResidual: false, ... }
console.log(summary(model, [1, 224, 224, 3]).text); // 11,689,512 parameters, as torchvision

// resnet18.safetensors: torchvision's checkpoint written by
//   /usr/bin/python3 packages/weights/scripts/pth_to_safetensors.py resnet18-f37072fd.pth resnet18.safetensors
const { tensors } = await readSafetensorsFile('resnet18.safetensors');
loadPyTorchStateDict(model, tensors); // OIHW -> HWIO, (out, in) -> (in, out); every problem reported at once
tf.dispose(Object.values(tensors));

model.eval();
const x = tf.zeros([1, 224, 224, 3]); // NHWC, normalized with model.info.mean / model.info.std
const logits = tf.tidy(() => model.forward(x)); // [1, 1000]
const features = tf.tidy(() => model.forwardFeatures(x)); // [1, 7, 7, 512], for transfer learning
// README example end

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example loads the checkpoint through the converter and runs', async () => {
  expect(summary(model, [1, 224, 224, 3]).text).toMatch(/total params: 11,689,512/);
  expect(logits.shape).toEqual([1, 1000]);
  expect(features.shape).toEqual([1, 7, 7, 512]);
  expect(model.training).toBe(false);
  // conv1.weight came through the converter: PyTorch [64, 3, 7, 7][5][1][2][3] -> [2][3][1][5].
  const w = (await model.stateDict()['conv1.weight'].array()) as number[][][][];
  const flat = 5 * 147 + 1 * 49 + 2 * 7 + 3;
  expect(w[2][3][1][5]).toBe(formulaValues('conv1.weight', 0, [64, 3, 7, 7], 1)[flat]);
  expect(Object.values(tensors).every((t) => t.isDisposed)).toBe(true);
  tf.dispose([x, logits, features]);
  model.dispose();
});
