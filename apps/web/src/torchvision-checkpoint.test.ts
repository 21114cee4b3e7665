import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@convkit/backend';
import { resnet18, resnet34 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  misShapedCheckpoint,
  probabilitiesOf,
  seededCheckpoint,
} from './__fixtures__/torchvision-checkpoint';
import { MODELS } from './models';
import { detectArchitecture, loadTorchvisionCheckpoint } from './torchvision-checkpoint';

const squeezenet = MODELS.squeezenet1_1;

/** A 28x28 image in [0, 1]: a bright ring on a dark ground. */
function ring(): Float32Array {
  return Float32Array.from({ length: 784 }, (_, i) => {
    const r = Math.hypot((i % 28) - 13.5, Math.floor(i / 28) - 13.5);
    return r > 6 && r < 10 ? 0.9 : 0.05;
  });
}

/** PyTorch-layout shapes of a ResNet's keys (only the classifier's shape matters to detection). */
function resnetShapes(build: typeof resnet18): Record<string, number[]> {
  const model = build({ numClasses: 7, initWeights: false });
  const shapes = Object.fromEntries(Object.keys(model.stateDict()).map((k) => [k, [1]]));
  model.dispose();
  return { ...shapes, 'fc.weight': [7, 512] };
}

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

describe('loadTorchvisionCheckpoint', () => {
  it('detects SqueezeNet 1.1 and loads it: the same probabilities as the model that wrote it', async () => {
    const before = tf.memory().numTensors;
    const { model: source, bytes } = seededCheckpoint(squeezenet, 10, 5);
    const loaded = loadTorchvisionCheckpoint(bytes, 'squeezenet.safetensors');
    expect(loaded.spec.id).toBe('squeezenet1_1');
    expect(loaded.numClasses).toBe(10);
    expect(loaded.format).toBe('safetensors');
    expect(loaded.keys).toBe(Object.keys(source.stateDict()).length);
    const expected = await probabilitiesOf(squeezenet, source, ring());
    const received = await probabilitiesOf(squeezenet, loaded.model, ring());
    for (let k = 0; k < 10; k++) expect(received[k]).toBeCloseTo(expected[k], 6);
    // A different seed gives other probabilities: the comparison can fail.
    const { model: other } = seededCheckpoint(squeezenet, 10, 6);
    const otherProbabilities = await probabilitiesOf(squeezenet, other, ring());
    expect(otherProbabilities.some((p, k) => Math.abs(p - expected[k]) > 1e-4)).toBe(true);
    for (const m of [source, loaded.model, other]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a mis-shaped tensor, naming the key and both shapes, and keeps no tensor', () => {
    const { model, bytes } = seededCheckpoint(squeezenet, 10, 5);
    const bad = misShapedCheckpoint(bytes, 'features.3.squeeze.weight', [16, 32, 1, 1]);
    model.dispose();
    const before = tf.memory().numTensors;
    expect(() => loadTorchvisionCheckpoint(bad, 'bad.safetensors')).toThrow(
      /^bad\.safetensors: squeezenet1_1: .*\n.*features\.3\.squeeze\.weight: expected convkit shape \[1, 1, 64, 16\].*received PyTorch shape \[16, 32, 1, 1\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a file that is neither safetensors nor .pth', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      loadTorchvisionCheckpoint(new TextEncoder().encode('hello, not weights'), 'notes.pth'),
    ).toThrow(/^notes\.pth is not a readable safetensors file/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads a real torch.save .pth and refuses its keys, naming them and the architectures', () => {
    // A small Sequential written by PyTorch (packages/weights' fixture): a readable .pth whose
    // keys are no torchvision architecture's.
    const file = join(
      dirname(fileURLToPath(import.meta.url)),
      '../../../packages/weights/src/__fixtures__/pth-checkpoint.pt',
    );
    const before = tf.memory().numTensors;
    expect(() =>
      loadTorchvisionCheckpoint(new Uint8Array(readFileSync(file)), 'pth-checkpoint.pt'),
    ).toThrow(
      /^pth-checkpoint\.pt: the checkpoint's 9 keys \(0\.weight, .*\) are not those of squeezenet1_1 or resnet18/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an architecture chosen against the file, naming the missing keys', () => {
    const { model, bytes } = seededCheckpoint(squeezenet, 10, 5);
    model.dispose();
    expect(() => loadTorchvisionCheckpoint(bytes, 'squeezenet.safetensors', 'resnet18')).toThrow(
      /the classifier weight fc\.weight .*received no such key/,
    );
    expect(() => loadTorchvisionCheckpoint(bytes, 'squeezenet.safetensors', 'lenet5')).toThrow(
      /lenet5 is not a torchvision architecture/,
    );
  });
});

describe('detectArchitecture', () => {
  it('tells ResNet-18 from ResNet-34 and reads the number of classes', () => {
    const r18 = detectArchitecture(resnetShapes(resnet18));
    expect(r18.spec.id).toBe('resnet18');
    expect(r18.numClasses).toBe(7);
    expect(() => detectArchitecture(resnetShapes(resnet34))).toThrow(
      /are not those of squeezenet1_1 or resnet18/,
    );
  });
});
