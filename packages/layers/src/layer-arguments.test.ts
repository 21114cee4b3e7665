import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  BatchNorm2d,
  CELU,
  Conv2d,
  Dropout,
  Dropout1d,
  Flatten,
  Hardtanh,
  LAYER_TYPES,
  Linear,
  MaxPool2d,
  MaxUnpool2d,
  type Module,
  moduleFromJSON,
  PixelShuffle,
  PixelUnshuffle,
  ReLU,
  Sequential,
  Softplus,
  Upsample,
} from './index';
import { nearestName } from './layer-arguments';

beforeAll(() => useBackend('cpu'));

describe('constructor arguments, as PyTorch and Keras users write them', () => {
  it('refuses a Keras spelling instead of ignoring it, naming the nearest valid option', () => {
    const keras = { inChannels: 1, outChannels: 6, kernelSize: 3, strides: 2 };
    expect(() => new Conv2d(keras)).toThrow(
      /Conv2d: unknown option 'strides'; did you mean 'stride'\?/,
    );
    // @ts-expect-error snake_case
    expect(() => new Linear({ in_features: 4, outFeatures: 2 })).toThrow(
      /Linear: unknown option 'in_features'; did you mean 'inFeatures'\?/,
    );
    // @ts-expect-error no such option, nothing near it
    expect(() => new Dropout({ probability: 0.2, xyzzy: 1 })).toThrow(
      /Dropout: unknown option 'probability'\. Valid: p/,
    );
  });

  it('accepts the positional form with a trailing options object, equal to the options form', () => {
    const positional = new Conv2d(1, 6, 5, { stride: 2 });
    const named = new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, stride: 2 });
    expect(positional.config).toEqual(named.config);
    expect(new Conv2d(3, 64, 3, 1, 1).config).toMatchObject({ stride: 1, padding: 1 });
    expect(new Linear(400, 120).config).toEqual(
      new Linear({ inFeatures: 400, outFeatures: 120 }).config,
    );
    expect(new Linear(400, 120, false).bias).toBeUndefined();
    expect(new BatchNorm2d(64).config.numFeatures).toBe(64);
    expect(new BatchNorm2d(64, { momentum: 0.01 }).config.momentum).toBe(0.01);
    expect(new Dropout(0.25).config.p).toBe(0.25);
    expect(new MaxPool2d(2).config).toEqual(new MaxPool2d({ kernelSize: 2 }).config);
    expect(new AvgPool2d([3, 2], 1).config).toMatchObject({ kernelSize: [3, 2], stride: 1 });
    expect(new Upsample(undefined, 2).config).toMatchObject({ scaleFactor: 2, mode: 'nearest' });
    for (const layer of [positional, named]) layer.dispose();
  });

  it('gives the catalogue layers the positional order of torch.nn as well', () => {
    expect(new MaxPool2d(2, 2, 0, 1, true).config.returnIndices).toBe(true);
    expect(new MaxUnpool2d(2).config).toMatchObject({ kernelSize: 2, stride: 2, padding: 0 });
    expect(new PixelShuffle(3).config.upscaleFactor).toBe(3);
    expect(new PixelUnshuffle(2).config.downscaleFactor).toBe(2);
    expect(new Hardtanh(-2, 2).config).toEqual({ minVal: -2, maxVal: 2 });
    expect(new Softplus(2, 10).config).toEqual({ beta: 2, threshold: 10 });
    expect(new CELU(0.5).config.alpha).toBe(0.5);
    expect(new Dropout1d(0.1).config.p).toBe(0.1);
  });

  it('refuses before creating any tensor', async () => {
    const report = await measureLeaks(() => {
      // @ts-expect-error `strides` is not an option of Conv2d.
      expect(() => new Conv2d(3, 8, 3, { strides: 2 })).toThrow(/did you mean 'stride'/);
    });
    expect(report.tensorsAfter).toBe(report.tensorsBefore);
  });

  it('refuses extra positional values and a value given twice', () => {
    // @ts-expect-error one positional value too many
    expect(() => new Linear(4, 2, true, 7)).toThrow(
      /Linear: expected at most 3 positional argument\(s\) \(inFeatures, outFeatures, bias\)/,
    );
    expect(() => new MaxPool2d(2, { kernelSize: 3 })).toThrow(
      /MaxPool2d: kernelSize is given twice, as positional argument 1 \(2\) and in the options \(3\)/,
    );
  });

  it('rebuilds every registered layer from its JSON (config keys are valid options)', () => {
    const samples: Module[] = [
      new Conv2d(2, 4, 3, { padding: 'same' }),
      new BatchNorm2d(4),
      new Sequential(new Linear(3, 2), new ReLU()),
    ];
    for (const layer of samples) {
      const rebuilt = moduleFromJSON(layer.toJSON());
      expect(rebuilt.toJSON()).toEqual(layer.toJSON());
      rebuilt.dispose();
      layer.dispose();
    }
    expect(Object.keys(LAYER_TYPES).length).toBeGreaterThan(30);
  });

  it('suggests by synonym, case and edits, and nothing when no name is close', () => {
    expect(nearestName('strides', ['stride', 'padding'])).toBe('stride');
    expect(nearestName('KERNEL_SIZE', ['kernelSize'])).toBe('kernelSize');
    expect(nearestName('paddin', ['stride', 'padding'])).toBe('padding');
    expect(nearestName('zzz', ['stride', 'padding'])).toBeUndefined();
  });
});

describe('Sequential', () => {
  it('takes modules as arguments or as one array, and runs either', () => {
    const fromArray = new Sequential([new Flatten(), new Linear(4, 2)]);
    const fromArgs = new Sequential(new Flatten(), new Linear(4, 2));
    expect(Object.keys(fromArray.stateDict())).toEqual(['1.weight', '1.bias']);
    const y = tf.tidy(() => fromArray.forward(tf.ones([3, 2, 2, 1])));
    expect(y.shape).toEqual([3, 2]);
    y.dispose();
    fromArray.dispose();
    fromArgs.dispose();
  });

  it('refuses something that is not a module at construction, naming its position', () => {
    const layer = new ReLU();
    // @ts-expect-error not a module
    expect(() => new Sequential([layer, { forward: 1 }])).toThrow(
      /Sequential: expected module 1 to be a Module \(a layer or a model\), received an object of class Object/,
    );
    // @ts-expect-error nested arrays are not flattened
    expect(() => new Sequential([layer], [layer])).toThrow(/module 0 .* received an array of 1/);
  });
});

describe("PyTorch's module walks", () => {
  it('parameters, buffers, children, modules and apply', () => {
    const model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU());
    expect(model.parameters().map((p) => p.variable.shape)).toEqual([[3, 3, 1, 2], [2], [2], [2]]);
    expect(model.buffers()).toHaveLength(3);
    expect(model.children().map((m) => m.constructor.name)).toEqual([
      'Conv2d',
      'BatchNorm2d',
      'ReLU',
    ]);
    expect(model.modules().map((m) => m.constructor.name)).toEqual([
      'Sequential',
      'Conv2d',
      'BatchNorm2d',
      'ReLU',
    ]);
    const visited: string[] = [];
    model.apply((m) => visited.push(m.constructor.name));
    expect(visited).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'Sequential']);
    model.dispose();
  });
});
