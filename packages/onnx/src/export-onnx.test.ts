// Each exported layer, run in onnxruntime-node, equals convkit's forward (eval mode); bad input
// and unsupported modules are refused by name.
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  ELU,
  Flatten,
  GELU,
  GlobalAvgPool2d,
  GroupNorm,
  Hardsigmoid,
  Hardswish,
  Identity,
  LeakyReLU,
  Linear,
  LocalResponseNorm,
  LogSoftmax,
  MaxPool2d,
  Mish,
  type Module,
  PReLU,
  ReLU,
  ReLU6,
  SELU,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  SqueezeExcitation,
  Tanh,
  Upsample,
  ZeroPad2d,
} from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnxParity, randomizeBatchNorms } from './__fixtures__/parity';
import { exportOnnx } from './export-onnx';
import { readOnnxModel } from './read-onnx-model';

const conv = (inChannels: number, outChannels: number, options = {}) =>
  new Conv2d({ inChannels, outChannels, kernelSize: 3, padding: 1, ...options });

const CASES: [string, () => Module, number[], number?][] = [
  [
    'Conv2d: groups, stride, dilation, no bias',
    () =>
      new Conv2d({
        inChannels: 4,
        outChannels: 6,
        kernelSize: 3,
        stride: 2,
        padding: 2,
        dilation: 2,
        groups: 2,
        bias: false,
      }),
    [2, 9, 11, 4],
  ],
  [
    'Conv2d: depthwise with multiplier 2',
    () => new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, groups: 3 }),
    [1, 7, 8, 3],
  ],
  [
    "Conv2d: padding 'same' with an even kernel",
    () => new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: [4, 2], padding: 'same' }),
    [1, 7, 9, 2],
  ],
  [
    'Conv2d: reflect and replicate padding',
    () =>
      new Sequential(
        conv(2, 3, { padding: 2, paddingMode: 'reflect' }),
        conv(3, 2, { paddingMode: 'replicate' }),
      ),
    [1, 6, 7, 2],
  ],
  [
    'Conv2d: circular padding (opset 19)',
    () => conv(2, 3, { paddingMode: 'circular' }),
    [1, 5, 6, 2],
    19,
  ],
  [
    'ConvTranspose2d: stride, padding, outputPadding, groups, dilation',
    () =>
      new ConvTranspose2d({
        inChannels: 4,
        outChannels: 6,
        kernelSize: 3,
        stride: 2,
        padding: 1,
        outputPadding: 1,
        groups: 2,
        dilation: 2,
      }),
    [2, 5, 6, 4],
  ],
  [
    'MaxPool2d: ceil mode with padding, and dilation',
    () =>
      new Sequential(
        new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
        new MaxPool2d({ kernelSize: 2, stride: 1, dilation: 2 }),
      ),
    [1, 12, 13, 2],
  ],
  [
    'AvgPool2d: ceil mode counting the padding',
    () => new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
    [1, 10, 11, 2],
  ],
  [
    'AvgPool2d: padding not counted',
    () =>
      new AvgPool2d({
        kernelSize: 3,
        stride: 2,
        padding: 1,
        ceilMode: true,
        countIncludePad: false,
      }),
    [1, 10, 11, 2],
  ],
  [
    'AvgPool2d: divisorOverride',
    () => new AvgPool2d({ kernelSize: 2, stride: 2, padding: 1, divisorOverride: 3 }),
    [1, 7, 6, 2],
  ],
  [
    'AdaptiveAvgPool2d: unequal bins',
    () => new AdaptiveAvgPool2d({ outputSize: [3, 4] }),
    [2, 7, 9, 3],
  ],
  [
    'AdaptiveAvgPool2d: equal bins',
    () => new AdaptiveAvgPool2d({ outputSize: [2, 3] }),
    [1, 6, 9, 3],
  ],
  [
    'AdaptiveMaxPool2d: unequal bins',
    () => new AdaptiveMaxPool2d({ outputSize: [3, 4] }),
    [2, 7, 9, 3],
  ],
  ['AdaptiveMaxPool2d: equal bins', () => new AdaptiveMaxPool2d({ outputSize: 2 }), [1, 6, 4, 3]],
  ['GlobalAvgPool2d', () => new GlobalAvgPool2d(), [2, 5, 7, 3]],
  ['GlobalAvgPool2d: keepDims', () => new GlobalAvgPool2d({ keepDims: true }), [2, 5, 7, 3]],
  [
    'BatchNorm2d without affine parameters',
    () => new Sequential(conv(3, 4), new BatchNorm2d({ numFeatures: 4, affine: false, eps: 1e-3 })),
    [2, 5, 6, 3],
  ],
  [
    'Flatten then Linear (weight rows permuted to C, H, W order)',
    () => new Sequential(conv(2, 3), new Flatten(), new Linear({ inFeatures: 60, outFeatures: 7 })),
    [2, 4, 5, 2],
  ],
  [
    'Flatten, BatchNorm1d and Linear (features in convkit order)',
    () =>
      new Sequential(
        conv(2, 3),
        new Flatten(),
        new BatchNorm1d({ numFeatures: 3 * 4 * 5 }),
        new Linear({ inFeatures: 60, outFeatures: 7 }),
      ),
    [2, 4, 5, 2],
  ],
  [
    'Linear on a rank-4 map (channels) keeps the map NHWC for the caller',
    () => new Sequential(conv(3, 4), new Linear({ inFeatures: 4, outFeatures: 5 })),
    [2, 3, 5, 3],
  ],
  [
    'activations',
    () =>
      new Sequential(
        conv(3, 4),
        new ReLU6(),
        new LeakyReLU({ negativeSlope: 0.2 }),
        new ELU({ alpha: 0.7 }),
        conv(4, 4),
        new SELU(),
        new GELU(),
        new GELU({ approximate: 'tanh' }),
        conv(4, 4),
        new SiLU(),
        new Mish(),
        new Hardswish(),
        conv(4, 4),
        new Hardsigmoid(),
        new Sigmoid(),
        new Tanh(),
        new PReLU(),
        conv(4, 4),
        new PReLU({ numParameters: 4, init: 0.1 }),
        new Dropout(),
        new Dropout2d(),
        new Identity(),
        new ReLU(),
      ),
    [2, 5, 6, 3],
  ],
  [
    'Softmax over H and LogSoftmax over channels',
    () => new Sequential(conv(3, 4), new Softmax({ dim: 1 }), new LogSoftmax()),
    [2, 5, 6, 3],
  ],
  [
    'Upsample nearest (scale 2, then size)',
    () => new Sequential(new Upsample({ scaleFactor: 2 }), new Upsample({ size: [13, 17] })),
    [2, 4, 5, 3],
  ],
  [
    'Upsample bilinear (align corners false, then true)',
    () =>
      new Sequential(
        new Upsample({ scaleFactor: 2, mode: 'bilinear' }),
        new Upsample({ size: [11, 7], mode: 'bilinear', alignCorners: true }),
      ),
    [1, 4, 5, 2],
  ],
  ['ZeroPad2d', () => new ZeroPad2d({ padding: [1, 2, 0, 3] }), [1, 4, 5, 2]],
  [
    'LocalResponseNorm',
    () => new LocalResponseNorm({ size: 3, alpha: 0.1, beta: 0.75, k: 2 }),
    [1, 4, 5, 6],
  ],
  [
    'SqueezeExcitation',
    () =>
      new SqueezeExcitation({
        inputChannels: 6,
        squeezeChannels: 2,
        activation: 'SiLU',
        scaleActivation: 'Hardsigmoid',
      }),
    [2, 4, 5, 6],
  ],
];

describe('exportOnnx: layers in onnxruntime equal convkit', () => {
  beforeAll(() => useBackend('cpu'));

  for (const [name, build, shape, opset] of CASES) {
    it(name, async () => {
      const model = build();
      try {
        randomizeBatchNorms(model);
        const { maxAbs, scale } = await onnxParity(model, shape, opset ? { opset } : {});
        expect(maxAbs, `max-abs difference (|output| <= ${scale})`).toBeLessThan(
          1e-5 * Math.max(1, scale),
        );
      } finally {
        model.dispose();
      }
    });
  }

  it('writes NCHW input and output with a symbolic batch, PyTorch layouts and metadata', async () => {
    const model = new Sequential(conv(3, 4), new ReLU());
    const bytes = await exportOnnx(model, { inputShape: [2, 5, 7, 3] });
    const info = readOnnxModel(bytes);
    expect(info.inputs).toEqual([{ name: 'input', shape: ['N', 3, 5, 7] }]);
    expect(info.outputs).toEqual([{ name: 'output', shape: ['N', 4, 5, 7] }]);
    expect(info.ops).toEqual({ Conv: 1, Relu: 1, Identity: 1 });
    expect(info.parameterCount).toBe(3 * 3 * 3 * 4 + 4);
    expect(info.opset).toBe(17);
    expect(info.producer).toBe('@convkit/onnx');
    expect(info.inputLayout).toBe('NCHW');
    expect(info.outputLayout).toBe('NCHW');
    expect(info.metadata['convkit.model_type']).toBe('Sequential');
    const fixed = readOnnxModel(
      await exportOnnx(model, { inputShape: [2, 5, 7, 3], dynamicBatch: false, opset: 13 }),
    );
    expect(fixed.inputs[0].shape).toEqual([2, 3, 5, 7]);
    expect(fixed.opset).toBe(13);
    model.dispose();
  });
});

describe('exportOnnx refuses', () => {
  beforeAll(() => useBackend('cpu'));

  it('a module without an exporter, naming its path and type', async () => {
    const model = new Sequential(
      conv(4, 4),
      new Sequential(new ReLU(), new GroupNorm({ numGroups: 2, numChannels: 4 })),
    );
    await expect(exportOnnx(model, { inputShape: [1, 4, 4, 4] })).rejects.toThrow(
      'cannot export module 1.1 (GroupNorm): no ONNX exporter is registered for GroupNorm',
    );
    model.dispose();
  });

  it('a BatchNorm without running statistics', async () => {
    const model = new Sequential(new BatchNorm2d({ numFeatures: 2, trackRunningStats: false }));
    await expect(exportOnnx(model, { inputShape: [2, 3, 3, 2] })).rejects.toThrow(
      'cannot export module 0 (BatchNorm2d): a BatchNorm without running statistics',
    );
    model.dispose();
  });

  it('circular padding below opset 19, and an even LRN window', async () => {
    const circular = conv(2, 2, { paddingMode: 'circular' });
    await expect(exportOnnx(circular, { inputShape: [1, 4, 4, 2] })).rejects.toThrow(
      "paddingMode 'circular' needs ONNX opset 19 or later",
    );
    circular.dispose();
    await expect(
      exportOnnx(new LocalResponseNorm({ size: 4 }), { inputShape: [1, 4, 4, 6] }),
    ).rejects.toThrow('only odd sizes are exported');
  });

  it('bad options and inputs, with the received value', async () => {
    const model = conv(3, 4);
    await expect(
      exportOnnx(model, { inputShape: [1, 5, 5] as number[] }).then(() => 0),
    ).rejects.toThrow('expected a rank-4 NHWC input, received shape [1,5,5]');
    await expect(exportOnnx(model, { inputShape: [1, 5, 5, 2] })).rejects.toThrow(
      'expected 3 input channels',
    );
    await expect(exportOnnx(model, { inputShape: [1, 0, 5, 3] })).rejects.toThrow(
      'expected inputShape to be convkit',
    );
    await expect(exportOnnx(model, { inputShape: [1, 5, 5, 3], opset: 9 })).rejects.toThrow(
      'expected opset to be an integer from 13 to 21, received 9',
    );
    await expect(exportOnnx({} as Module, { inputShape: [1, 5, 5, 3] })).rejects.toThrow(
      'exportOnnx: expected a convkit Module, received Object',
    );
    model.dispose();
  });
});
