import { Linear } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import { readPthFile } from '@convkit/weights';
import { loadPyTorchStateDict, mobilenetV2 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLASSES,
  fixturePath,
  fromBits,
  headWeight,
  images,
  reference,
} from './__fixtures__/formula';
import { fineTune, parameterCounts, resetClassifier } from './index';

async function pretrained() {
  const model = mobilenetV2({ widthMult: 0.25, numClasses: 10, dropout: 0, initWeights: false });
  const { tensors } = await readPthFile(fixturePath('mobilenet-v2-025.pth'));
  loadPyTorchStateDict(model, tensors);
  tf.dispose(Object.values(tensors));
  return model;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('PyTorch parity', () => {
  it('a torchvision .pth (mobilenet_v2, torch.save) loads in plain Node and gives PyTorch logits', async () => {
    const model = await pretrained();
    model.eval();
    const x = images(1000, 2);
    const logits = tf.tidy(() => model.forward(x));
    const expected = fromBits(reference.logits);
    const actual = logits.dataSync();
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    expect(logits.shape).toEqual([2, 10]);
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, logits]);
    model.dispose();
  });

  it('frozen encoder + new head, 20 SGD steps in batch order: the head matches PyTorch within 1e-5, no leaks', async () => {
    const model = await pretrained();
    const head = resetClassifier(model, CLASSES) as Linear;
    expect(head).toBeInstanceOf(Linear);
    const w = headWeight();
    head.weight.variable.assign(w);
    w.dispose();
    head.bias?.variable.assign(tf.tensor1d([0, 0.01, 0.02, 0.03, 0.04]));
    const batches = Array.from({ length: 20 }, (_, step) => ({
      x: images(step * 4, 4),
      y: tf.tensor1d(
        Array.from({ length: 4 }, (_, s) => (step * 4 + s) % CLASSES),
        'int32',
      ),
    }));
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    const result = await fineTune(model, {
      data: batches,
      optimizer: 'sgd',
      headLr: 0.05,
      headEpochs: 1,
      fineTuneEpochs: 0,
      callbacks: [{ onBatchEnd: (logs) => void losses.push(logs.loss) }],
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.head?.epochsRun).toBe(1);
    expect(parameterCounts(model).trainable).toBe(1280 * CLASSES + CLASSES);
    for (let i = 0; i < 20; i++)
      expect(Math.abs(losses[i] - reference.parity.losses[i])).toBeLessThan(1e-5);
    // PyTorch's weight is [out, in]; convkit's [in, out].
    const expectedWeight = fromBits(reference.parity.weight);
    const actual = tf.tidy(() => tf.transpose(head.weight.variable).dataSync());
    let worst = 0;
    for (let i = 0; i < expectedWeight.length; i++)
      worst = Math.max(worst, Math.abs(actual[i] - expectedWeight[i]));
    const bias = head.bias?.variable.dataSync() as Float32Array;
    const expectedBias = fromBits(reference.parity.bias);
    for (let i = 0; i < CLASSES; i++) worst = Math.max(worst, Math.abs(bias[i] - expectedBias[i]));
    console.log(`parity: max |head - PyTorch| after 20 SGD steps = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    for (const b of batches) tf.dispose([b.x, b.y]);
    model.dispose();
  });
});
