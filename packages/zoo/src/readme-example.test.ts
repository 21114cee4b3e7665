// The README's example, end to end: a torchvision-layout safetensors file (formula values in
// place of the real checkpoint, which is not in the repository) loaded into resnet18.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summary } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import { readSafetensorsFile, saveSafetensorsFile } from '@convkit/weights';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { fixture, formulaValues } from './__fixtures__/harness';
import { loadPyTorchStateDict, resnet18 } from './index';

it('README: build resnet18, summary, load a torchvision-layout safetensors file', async () => {
  await useBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'zoo-readme-'));
  const path = join(dir, 'resnet18.safetensors');
  try {
    // What pth_to_safetensors.py writes for torchvision's resnet18 (PyTorch layouts and keys).
    const pytorch: Record<string, tf.Tensor> = {};
    for (const [k, [key, shape]] of fixture.models.resnet18.keys.entries()) {
      pytorch[key] = key.endsWith('num_batches_tracked')
        ? tf.scalar(0, 'int32')
        : tf.tensor(formulaValues(key, k, shape, 1), shape);
    }
    await saveSafetensorsFile(path, pytorch);
    tf.dispose(Object.values(pytorch));

    const model = resnet18({ initWeights: false });
    expect(summary(model, [1, 224, 224, 3]).text).toMatch(/total params: 11,689,512/);
    const { tensors } = await readSafetensorsFile(path);
    loadPyTorchStateDict(model, tensors);
    tf.dispose(Object.values(tensors));
    model.eval();
    const x = tf.zeros([1, 64, 64, 3]);
    const logits = tf.tidy(() => model.forward(x));
    const features = tf.tidy(() => model.forwardFeatures(x));
    expect(logits.shape).toEqual([1, 1000]);
    expect(features.shape).toEqual([1, 2, 2, 512]);
    // conv1.weight came through the converter: PyTorch [64, 3, 7, 7][5][1][2][3] -> [2, 3, 1, 5].
    const w = (await model.stateDict()['conv1.weight'].array()) as number[][][][];
    const flat = 5 * 147 + 1 * 49 + 2 * 7 + 3;
    expect(w[2][3][1][5]).toBe(formulaValues('conv1.weight', 0, [64, 3, 7, 7], 1)[flat]);
    tf.dispose([x, logits, features]);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
