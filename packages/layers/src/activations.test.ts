import { RandomSource } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Add } from './add';
import { BatchNorm2d } from './batch-norm-2d';
import { Concat } from './concat';
import { Conv2d } from './conv2d';
import { Dropout } from './dropout';
import { ELU } from './elu';
import {
  hardsigmoid,
  hardswish,
  hardtanh,
  logSigmoid,
  relu6,
  softplus,
} from './functional/activations';
import { GELU } from './gelu';
import { GroupNorm } from './group-norm';
import { LayerNorm } from './layer-norm';
import { LeakyReLU } from './leaky-relu';
import { LocalResponseNorm } from './local-response-norm';
import { LogSoftmax } from './log-softmax';
import type { Module } from './module';
import { PReLU } from './prelu';
import { ReLU6 } from './relu6';
import { Sequential } from './sequential';
import { Softmax } from './softmax';
import { SqueezeExcitation } from './squeeze-excitation';
import { summary } from './summary';

// The custom gradients (tf.customGrad: relu6, hardswish, hardsigmoid, hardtanh, softplus,
// logSigmoid) against central finite
// differences, computed in float64 on the CPU from the float32 forward, away from the kinks
// (their kink values are checked against PyTorch in norm-act.test.ts).
describe.each(['cpu', 'wasm'] as const)(
  'custom gradients vs finite differences (%s)',
  (backend) => {
    const kinks: Record<string, number[]> = {
      relu6: [0, 6],
      hardswish: [-3, 3],
      hardsigmoid: [-3, 3],
      hardtanh: [-1, 1],
      'hardtanh(-3, 6)': [-3, 6],
      softplus: [],
      'softplus(beta 2, threshold 5)': [2.5],
      logSigmoid: [],
    };
    const fns: Record<string, (x: tf.Tensor) => tf.Tensor> = {
      relu6,
      hardswish,
      hardsigmoid,
      hardtanh: (x) => hardtanh(x),
      'hardtanh(-3, 6)': (x) => hardtanh(x, -3, 6),
      softplus: (x) => softplus(x),
      'softplus(beta 2, threshold 5)': (x) => softplus(x, 2, 5),
      logSigmoid,
    };

    it.each(Object.keys(fns))('%s', async (name) => {
      await useBackend(backend);
      const f = fns[name];
      const random = new RandomSource(3);
      const h = 1e-2;
      const points = Array.from({ length: 200 }, () => random.uniform(-8, 8)).filter((x) =>
        kinks[name].every((k) => Math.abs(x - k) > 2 * h),
      );
      const x = tf.tensor1d(points);
      const [analytic, plus, minus] = tf.tidy(() => [
        tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x),
        f(tf.add(x, h)),
        f(tf.sub(x, h)),
      ]);
      const a = await analytic.data();
      const p = await plus.data();
      const m = await minus.data();
      for (let i = 0; i < points.length; i++) {
        const numeric = (p[i] - m[i]) / (2 * h);
        expect(Math.abs(a[i] - numeric), `${name}'(${points[i]})`).toBeLessThan(2e-3);
      }
      tf.dispose([x, analytic, plus, minus]);
    });
  },
);

describe('shape errors name the layer path, the expected and the received shape', () => {
  const cases: [() => Module, number[][], string][] = [
    [
      () => new PReLU({ numParameters: 3 }),
      [[2, 4, 4, 5]],
      'expected input with 3 channels on the last axis (shape [N, ..., 3]), received shape [2,4,4,5]',
    ],
    [
      () => new LayerNorm({ normalizedShape: [4, 3] }),
      [[2, 4, 5, 3]],
      'expected input of shape [*, 4, 3] (trailing axes = normalizedShape), received shape [2,4,5,3]',
    ],
    [
      () => new GroupNorm({ numGroups: 2, numChannels: 4 }),
      [[2, 3, 3, 6]],
      'expected input of shape [N, ..., 4] (channels last), received shape [2,3,3,6]',
    ],
    [
      () => new LocalResponseNorm({ size: 3 }),
      [[2, 4]],
      'expected input of rank 3 or more ([N, ..., C]), received shape [2,4]',
    ],
    [
      () => new Softmax({ dim: 4 }),
      [[2, 3, 3, 4]],
      'dim 4 is out of range for input shape [2,3,3,4] (rank 4)',
    ],
    [
      () => new LogSoftmax({ dim: -3 }),
      [[2, 4]],
      'dim -3 is out of range for input shape [2,4] (rank 2)',
    ],
    [
      () => new SqueezeExcitation({ inputChannels: 8, squeezeChannels: 2 }),
      [[2, 3, 3, 4]],
      'expected input of shape [N, H, W, 8], received shape [2,3,3,4]',
    ],
    [
      () => new Concat(),
      [
        [2, 3, 3, 4],
        [2, 3, 2, 1],
      ],
      'expected input 1 to match input 0 on every axis but 3 ([2,3,3,*]), received shape [2,3,2,1]',
    ],
    [() => new Concat(), [], 'expected at least one input, received none'],
    [
      () => new Add(),
      [
        [2, 3, 3, 4],
        [2, 3, 3, 4],
        [2, 3, 3, 5],
      ],
      'expected every input to have the shape of input 0 [2,3,3,4], received [2,3,3,5] for input 2',
    ],
  ];

  it.each(cases)('case %#', async (make, shapes, message) => {
    await useBackend('cpu');
    const layer = make();
    // Inside a model the message starts with the layer's path.
    const model = new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 1 }),
      layer,
    );
    model.namedModules();
    expect(() => layer.outputShape(...shapes)).toThrow(`1 (${layer.constructor.name}): ${message}`);
    const inputs = shapes.map((s) => tf.zeros(s));
    expect(() => layer.forward(...inputs)).toThrow(message);
    tf.dispose(inputs);
    model.dispose();
  });

  it('Concat joins along dim and Add sums equal shapes', () => {
    expect(new Concat().outputShape([2, 3, 3, 4], [2, 3, 3, 1])).toEqual([2, 3, 3, 5]);
    expect(new Concat({ dim: 1 }).outputShape([2, 3, 3, 4], [2, 1, 3, 4])).toEqual([2, 4, 3, 4]);
    expect(new Add().outputShape([2, 3], [2, 3])).toEqual([2, 3]);
  });
});

describe('options are validated, echoing the bad value', () => {
  it.each([
    [
      () => new LeakyReLU({ negativeSlope: Number.NaN }),
      'LeakyReLU: expected negativeSlope to be a finite number, received NaN',
    ],
    [
      () => new ELU({ alpha: '1' as unknown as number }),
      'ELU: expected alpha to be a finite number, received 1',
    ],
    [
      () => new GELU({ approximate: 'erf' as 'none' }),
      `GELU: expected approximate to be 'none' or 'tanh', received "erf"`,
    ],
    [
      () => new PReLU({ numParameters: 0 }),
      'PReLU: expected numParameters to be a positive integer, received 0',
    ],
    [() => new Softmax({ dim: 1.5 }), 'Softmax: expected dim to be an integer, received 1.5'],
    [
      () => new LayerNorm({ normalizedShape: [4, 0] }),
      'LayerNorm: expected normalizedShape to be a positive integer or a non-empty array of them, received [4,0]',
    ],
    [
      () => new GroupNorm({ numGroups: 3, numChannels: 4 }),
      'GroupNorm: numChannels must be divisible by numGroups, received numChannels=4, numGroups=3',
    ],
    [
      () => new LocalResponseNorm({ size: 0 }),
      'LocalResponseNorm: expected size to be a positive integer, received 0',
    ],
    [
      () =>
        new SqueezeExcitation({
          inputChannels: 4,
          squeezeChannels: 2,
          activation: 'Swish' as 'SiLU',
        }),
      'SqueezeExcitation: expected activation to be one of ELU, GELU, Hardsigmoid, Hardswish, LeakyReLU, Mish, ReLU, ReLU6, SELU, Sigmoid, SiLU, Tanh, received "Swish"',
    ],
    [() => new Concat({ dim: Number.NaN }), 'Concat: expected dim to be an integer, received NaN'],
  ] as const)('%#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('SqueezeExcitation', () => {
  it('has torchvision keys and HWIO 1x1 kernels', async () => {
    await useBackend('cpu');
    const se = new SqueezeExcitation({ inputChannels: 6, squeezeChannels: 2 });
    expect(Object.entries(se.stateDict()).map(([k, t]) => [k, t.shape])).toEqual([
      ['fc1.weight', [1, 1, 6, 2]],
      ['fc1.bias', [2]],
      ['fc2.weight', [1, 1, 2, 6]],
      ['fc2.bias', [6]],
    ]);
    se.dispose();
  });
});

describe('summary over the new layers', () => {
  it('counts parameters as PyTorch and leaves BatchNorm statistics alone', async () => {
    await useBackend('cpu');
    const model = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }),
      new BatchNorm2d({ numFeatures: 8 }),
      new ReLU6(),
      new SqueezeExcitation({ inputChannels: 8, squeezeChannels: 2 }),
      new Dropout({ p: 0.2 }),
    );
    const before = Array.from(await model.stateDict()['1.num_batches_tracked'].data());
    const s = summary(model, [1, 6, 6, 3]);
    // Children in torchvision's order (fc1, fc2, activation, scale_activation).
    // Conv 3*3*3*8 + 8, BatchNorm 8 + 8, SE fc1 8*2 + 2 and fc2 2*8 + 8 (PyTorch's count).
    expect(s.trainableParams).toBe(224 + 16 + 18 + 24);
    expect(s.rows.map((r) => r.path)).toEqual([
      '0',
      '1',
      '2',
      '3.fc1',
      '3.fc2',
      '3.activation',
      '3.scale_activation',
      '4',
    ]);
    expect(s.rows.at(-1)?.outputShape).toEqual([1, 6, 6, 8]);
    expect(Array.from(await model.stateDict()['1.num_batches_tracked'].data())).toEqual(before);
    expect(model.training).toBe(true);
    model.dispose();
  });
});
