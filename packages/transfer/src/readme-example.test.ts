// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
// The only wrapping: the example reads mobilenet-v2-025.pth from the working directory, so the
// fixture (a real torch.save file) is copied to a temporary directory first.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { afterAll, expect, it } from 'vitest';

const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'transfer-readme-'));
copyFileSync(
  new URL('./__fixtures__/mobilenet-v2-025.pth', import.meta.url),
  join(directory, 'mobilenet-v2-025.pth'),
);
process.chdir(directory);
afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { readPthFile } from '@convkit/weights';
import { loadPyTorchStateDict, mobilenetV2 } from '@convkit/zoo';
import { chooseHead, featuresOnly, fineTune, resetClassifier } from '@convkit/transfer';

await selectBackend();
// A torchvision checkpoint written by torch.save (downloadWeights(torchvisionWeights('mobilenet_v2'), ...) fetches the real one).
const model = mobilenetV2({ widthMult: 0.25, numClasses: 10, initWeights: false });
const { tensors } = await readPthFile('mobilenet-v2-025.pth');
loadPyTorchStateDict(model, tensors);
tf.dispose(Object.values(tensors));

// 3 classes, 4 images each here: the course's rule says "train only a new last FC layer".
const plan = chooseHead(4); // { strategy: 'last-fc', head: {}, unfreezeStages: 0, ... }
resetClassifier(model, 3, plan.head);
const data = [0, 1, 2].map((i) => ({
  x: tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', i),
  y: tf.tensor1d([0, 1, 2, i], 'int32'),
}));

const result = await fineTune(model, {
  data,
  headEpochs: 2, // phase 1: the head alone, the encoder frozen (BatchNorm in inference mode)
  fineTuneEpochs: 1, // phase 2: the top stage unfrozen too
  unfreezeStages: 1,
  lr: 1e-4, // the head's lr in phase 2; stage k from the top gets lr * layerDecay^k
  layerDecay: 0.5,
  warmupSteps: 2,
});
console.log(result.groups); // [{ prefix: 'classifier.1', lr: 1e-4, ... }, { prefix: 'features.18', lr: 5e-5, ... }]

// Stage outputs for a detection / segmentation head:
model.eval();
const maps = featuresOnly(model).forward(tf.zeros([1, 32, 32, 3])); // { 'features.1': [1, 16, 16, 8], ... }
// README example end

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example trained both phases with the documented groups and stage outputs', () => {
  expect(result.head?.epochsRun).toBe(2);
  expect(result.fineTune?.epochsRun).toBe(1);
  expect(result.groups.map((g) => [g.prefix, g.lr])).toEqual([
    ['classifier.1', 1e-4],
    ['features.18', 5e-5],
  ]);
  expect(plan.strategy).toBe('last-fc');
  expect(maps['features.1'].shape).toEqual([1, 16, 16, 8]);
  expect(Object.keys(maps)).toEqual(model.info.featureInfo.map((f) => f.module));
  tf.dispose(Object.values(maps));
  tf.dispose(data.flatMap((b) => [b.x, b.y]));
});
