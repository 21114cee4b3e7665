import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from './__fixtures__/parameter-layout.json';
import {
  computeFans,
  fromPyTorchLayout,
  fromPyTorchPermutation,
  fromPyTorchShape,
  type LayoutOptions,
  type ParamLayout,
  PYTORCH_COUNTERPART,
  type PyTorchLayout,
  toPyTorchLayout,
  toPyTorchPermutation,
  toPyTorchShape,
} from './parameter-layout';
import { selectBackend } from './select-backend';

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

interface FanCase {
  name: string;
  torchShape: number[];
  torchLayout?: string;
  layout: string;
  shape: number[];
  fanIn?: number;
  fanOut?: number;
  error?: string;
}

const fanCases = fixtures.fans as FanCase[];
const withFans = fanCases.filter((c) => c.error === undefined);
const optionsOf = (c: FanCase): LayoutOptions =>
  c.layout === 'HWCM' ? { depthMultiplier: c.shape[3] } : {};

describe('computeFans matches torch.nn.init._calculate_fan_in_and_fan_out', () => {
  it.each(withFans)('$name in convkit layout $layout $shape', (c) => {
    expect(computeFans(c.shape, c.layout as ParamLayout)).toEqual({
      fanIn: c.fanIn,
      fanOut: c.fanOut,
    });
  });

  it.each(withFans)('$name in PyTorch layout $torchLayout $torchShape', (c) => {
    expect(computeFans(c.torchShape, c.torchLayout as PyTorchLayout)).toEqual({
      fanIn: c.fanIn,
      fanOut: c.fanOut,
    });
  });

  it.each(fanCases.filter((c) => c.error !== undefined))('$name has no fans, as in torch', (c) => {
    expect(() => computeFans(c.shape, 'vector')).toThrow(/layout 'vector' has no fans/);
  });

  it('names the layout and the shape in errors', () => {
    expect(() => computeFans([3], 'HWIO')).toThrow(
      "computeFans: layout 'HWIO' expects rank >= 2 [...kernel, in, out], received shape [3]",
    );
    expect(() => computeFans([2, 3, 4], 'IO')).toThrow("layout 'IO' expects rank 2 [in, out]");
    expect(() => computeFans([3, 3], 'NCHW' as ParamLayout)).toThrow(
      "computeFans: unknown layout 'NCHW'",
    );
  });
});

describe('shapes to and from PyTorch', () => {
  // Layout permutations are defined for 2-D layers (rank-4 kernels) and linear weights.
  const mapped = withFans.filter((c) => c.shape.length === 4 || c.layout === 'IO');

  it.each(mapped)('$name: $layout $shape <-> $torchLayout $torchShape', (c) => {
    const layout = c.layout as ParamLayout;
    expect(PYTORCH_COUNTERPART[layout]).toBe(c.torchLayout);
    expect(toPyTorchShape(c.shape, layout)).toEqual(c.torchShape);
    expect(fromPyTorchShape(c.torchShape, layout, optionsOf(c))).toEqual(c.shape);
  });

  it('leaves vectors and scalars as they are', () => {
    expect(toPyTorchShape([8], 'vector')).toEqual([8]);
    expect(fromPyTorchShape([], 'scalar')).toEqual([]);
    expect(() => toPyTorchShape([2, 2], 'vector')).toThrow('vector expects rank 1');
  });

  it('explains shapes that do not fit', () => {
    expect(() => fromPyTorchShape([6, 1, 3, 3], 'HWCM', { depthMultiplier: 4 })).toThrow(
      '6 output channels are not a multiple of the depth multiplier 4',
    );
    expect(() => fromPyTorchShape([6, 2, 3, 3], 'HWCM')).toThrow(
      'HWCM expects PyTorch shape [C*M, 1, kh, kw] (groups = C), received [6,2,3,3]',
    );
    expect(() => toPyTorchShape([70, 5], 'IO', { flattenedFrom: [8, 3, 3] })).toThrow(
      'flattenedFrom [C, H, W] = [8, 3, 3] has 72 features, the weight has 70 inputs',
    );
  });

  it('inverts each permutation exactly', () => {
    const cases: [number[], ParamLayout, LayoutOptions][] = [
      [[3, 2, 4, 5], 'HWIO', {}],
      [[3, 2, 4, 5], 'HWOI', {}],
      [[3, 2, 4, 5], 'HWCM', { depthMultiplier: 5 }],
      [[24, 5], 'IO', { flattenedFrom: [4, 2, 3] }],
    ];
    for (const [shape, layout, options] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = tf.range(0, size).reshape(shape);
      const torch = toPyTorchLayout(x, layout, options);
      expect(torch.shape).toEqual(toPyTorchPermutation(shape, layout, options).shape);
      const back = fromPyTorchLayout(torch, layout, options);
      expect(fromPyTorchPermutation(torch.shape, layout, options).shape).toEqual(shape);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.dataSync())).toEqual(Array.from(x.dataSync()));
      tf.dispose([x, torch, back]);
    }
  });
});

interface ConversionCase {
  name: string;
  layout: ParamLayout;
  torchShape: number[];
  weight: number[];
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
  stride?: number;
  depthMultiplier?: number;
  flattenedFrom?: [number, number, number];
}

/** torch's NCHW output for `c`, from a convkit-layout weight and tfjs's NHWC op. */
function runConvkit(c: ConversionCase, weight: tf.Tensor): tf.Tensor {
  const x = tf.tensor(c.input, c.inputShape);
  if (c.layout === 'IO') {
    // convkit flattens an NHWC map: H, W, C order.
    const rows = c.flattenedFrom ? x.transpose([0, 2, 3, 1]).reshape([c.inputShape[0], -1]) : x;
    return tf.matMul(rows as tf.Tensor2D, weight as tf.Tensor2D);
  }
  const nhwc = x.transpose([0, 2, 3, 1]) as tf.Tensor4D;
  const stride = c.stride ?? 1;
  const [n, channels, h, w] = c.outputShape;
  const y =
    c.layout === 'HWIO'
      ? tf.conv2d(nhwc, weight as tf.Tensor4D, stride, 'valid')
      : c.layout === 'HWCM'
        ? tf.depthwiseConv2d(nhwc, weight as tf.Tensor4D, stride, 'valid')
        : tf.conv2dTranspose(nhwc, weight as tf.Tensor4D, [n, h, w, channels], stride, 'valid');
  return y.transpose([0, 3, 1, 2]);
}

describe('converted weights reproduce torch layers', () => {
  it.each(fixtures.conversions as ConversionCase[])('$name ($layout)', (c) => {
    const before = tf.memory().numTensors;
    const options = { depthMultiplier: c.depthMultiplier, flattenedFrom: c.flattenedFrom };
    tf.tidy(() => {
      const weight = fromPyTorchLayout(tf.tensor(c.weight, c.torchShape), c.layout, options);
      const y = runConvkit(c, weight);
      expect(y.shape).toEqual(c.outputShape);
      const got = y.dataSync();
      c.output.forEach((v, i) => {
        expect(got[i]).toBeCloseTo(v, 4);
      });
      const back = toPyTorchLayout(weight, c.layout, options);
      expect(Array.from(back.dataSync())).toEqual(Array.from(new Float32Array(c.weight)));
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
