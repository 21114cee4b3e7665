// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// biome-ignore-all format: the README example's lines stay as the README writes them.
// Runs the README's first example exactly as written (the code between the two marker comments
// is the README's first ```ts block, checked below so the two cannot drift) and checks what it
// claims. The only wrapping: the example reads resnet18.safetensors from the working directory,
// so a PyTorch-layout file with five of ResNet-18's keys and shapes (seeded values, not the real
// checkpoint, which is not in the repository) is written to a temporary directory first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { afterAll, expect, it } from 'vitest';
import { readSafetensorsFile as readForCheck, saveSafetensorsFile as saveForSetup } from './index';

const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'weights-readme-'));
const tfSetup = await import('@tensorflow/tfjs-core');
const pytorch = {
  'conv1.weight': tfSetup.randomNormal([64, 3, 7, 7], 0, 1, 'float32', 1),
  'bn1.weight': tfSetup.randomNormal([64], 0, 1, 'float32', 2),
  'fc.weight': tfSetup.randomNormal([1000, 512], 0, 1, 'float32', 3),
  'fc.bias': tfSetup.randomNormal([1000], 0, 1, 'float32', 4),
  'layer1.0.conv1.weight': tfSetup.randomNormal([64, 64, 3, 3], 0, 1, 'float32', 5),
};
await saveForSetup(join(directory, 'resnet18.safetensors'), pytorch, { source: 'test' });
process.chdir(directory);

afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { convertStateDict, readSafetensorsFile, saveSafetensorsFile } from '@convkit/weights';

// resnet18.safetensors was written by scripts/pth_to_safetensors.py (PyTorch layouts).
const { tensors, metadata } = await readSafetensorsFile('resnet18.safetensors');

// The layout of each key, e.g. from a convkit model:
//   Object.fromEntries(model.namedParameters().map(([k, p]) => [k, { layout: p.layout, shape: p.shape }]))
//   plus 'vector' for running_mean / running_var and 'scalar' for num_batches_tracked.
const { tensors: convkit, missing, unexpected, misShaped } = convertStateDict(
  tensors,
  { 'conv1.weight': 'HWIO', 'bn1.weight': 'vector', 'fc.weight': 'IO', 'fc.bias': 'vector' },
  { flattenedFrom: { fc: [512, 1, 1] } }, // a linear layer after a flatten of [C, H, W]
);
// model.loadStateDict(convkit);

// Save atomically (temp file, fsync, rename): a crash never leaves a truncated file.
await saveSafetensorsFile('resnet18-convkit.safetensors', convkit, { format: 'convkit' });
// README example end

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 1 }),
  ).toBeNull();
});

it('converts the PyTorch layouts and reports the keys it was not given', async () => {
  expect(metadata).toEqual({ source: 'test' });
  expect(convkit['conv1.weight'].shape).toEqual([7, 7, 3, 64]);
  expect(convkit['fc.weight'].shape).toEqual([512, 1000]);
  expect(missing).toEqual([]);
  expect(unexpected).toEqual(['layer1.0.conv1.weight']);
  expect(misShaped).toEqual([]);
  // OIHW [o][i][h][w] -> HWIO [h][w][i][o]; (out, in) -> (in, out).
  const conv = (await tensors['conv1.weight'].array()) as number[][][][];
  const hwio = (await convkit['conv1.weight'].array()) as number[][][][];
  expect(hwio[5][1][2][17]).toBe(conv[17][2][5][1]);
  const fc = (await tensors['fc.weight'].array()) as number[][];
  const io = (await convkit['fc.weight'].array()) as number[][];
  expect(io[300][7]).toBe(fc[7][300]);
  const saved = await readForCheck('resnet18-convkit.safetensors');
  expect(saved.metadata).toEqual({ format: 'convkit' });
  expect(Object.keys(saved.tensors).sort()).toEqual(Object.keys(convkit).sort());
  tf.dispose([...Object.values(saved.tensors), ...Object.values(tensors), ...Object.values(convkit)]);
  tf.dispose(Object.values(pytorch));
});
