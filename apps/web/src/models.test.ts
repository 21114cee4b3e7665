import { selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { encoderOf, inputRange, MODELS, modelInput, modelSpec, resizeGrey } from './models';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

describe('models', () => {
  it('resizes as torch.nn.functional.interpolate(bilinear, align_corners=False)', () => {
    // PyTorch 1.13's output for arange(9).reshape(3, 3) / 8 resized to 5x5.
    const torch = [
      0.0, 0.05, 0.125, 0.2, 0.25, 0.15, 0.2, 0.275, 0.35, 0.4, 0.375, 0.425, 0.5, 0.575, 0.625,
      0.6, 0.65, 0.725, 0.8, 0.85, 0.75, 0.8, 0.875, 0.95, 1.0,
    ];
    const resized = resizeGrey(
      Float32Array.from({ length: 9 }, (_, i) => i / 8),
      3,
      5,
    );
    expect(Array.from(resized).map((v) => Number(v.toFixed(6)))).toEqual(torch);
  });

  it('prepares a torchvision input: 112x112, grey copied to RGB, ImageNet mean / std', async () => {
    const spec = MODELS.squeezenet1_1;
    const grey = new Float32Array(2 * 784).fill(0.5);
    const x = modelInput(spec, grey, 2);
    expect(x.shape).toEqual([2, 112, 112, 3]);
    const values = await x.data();
    x.dispose();
    const expected = [0, 1, 2].map((c) => (0.5 - spec.mean[c]) / spec.std[c]);
    for (let c = 0; c < 3; c++) expect(values[3 * 5000 + c]).toBeCloseTo(expected[c], 6);
    expect(inputRange(spec)[0]).toBeCloseTo(-0.485 / 0.229, 6);
    expect(() => modelInput(spec, grey, 3)).toThrow(
      /expected 3 images of 28x28 \(2352 values\); received 1568/,
    );
  });

  it('encodes with every model without leaking a tensor: the classifier input width', async () => {
    const widths: Record<string, number> = {
      lenet5: 84,
      'cifar-resnet8': 64,
      squeezenet1_1: 512,
    };
    for (const [id, width] of Object.entries(widths)) {
      const spec = modelSpec(id);
      const model = spec.build(10);
      model.eval();
      const before = tf.memory().numTensors;
      const encode = await encoderOf(spec, model);
      const x = modelInput(spec, new Float32Array(2 * 784).fill(0.3), 2);
      const features = encode(x);
      expect(features.shape).toEqual([2, width]);
      tf.dispose([x, features]);
      expect(tf.memory().numTensors, id).toBe(before);
      model.dispose();
    }
  });

  it('names the known models when asked for an unknown one', () => {
    expect(() => modelSpec('vgg16')).toThrow(/unknown model "vgg16"; expected one of lenet5, /);
  });
});
