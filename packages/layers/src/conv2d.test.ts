import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { Conv2d } from './conv2d';

describe('Conv2d vs PyTorch', () => checkConvPoolCases('conv2d-'));

describe('Conv2d options and shapes', () => {
  it('rejects bad options, echoing the value', async () => {
    await useBackend('cpu');
    const base = { inChannels: 4, outChannels: 6, kernelSize: 3 };
    expect(() => new Conv2d({ ...base, groups: 4 })).toThrow(
      'Conv2d: groups must divide inChannels and outChannels; received groups=4, inChannels=4, outChannels=6',
    );
    expect(() => new Conv2d({ ...base, groups: 0 })).toThrow(
      'Conv2d: expected groups to be a positive integer, received 0',
    );
    expect(() => new Conv2d({ ...base, paddingMode: 'mirror' as never })).toThrow(
      `Conv2d: expected paddingMode 'zeros', 'reflect', 'replicate' or 'circular', received "mirror"`,
    );
    expect(() => new Conv2d({ ...base, kernelSize: [3, 0] })).toThrow(
      'Conv2d: expected kernelSize to be an integer >= 1 or a pair of them, received [3,0]',
    );
    expect(() => new Conv2d({ ...base, padding: 'same', stride: 2 })).toThrow(
      "Conv2d: padding 'same' needs stride 1",
    );
  });

  it('names the layer and the shapes in input errors', async () => {
    await useBackend('cpu');
    const conv = new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 3, dilation: 2 });
    expect(() => conv.outputShape([1, 8, 8, 4])).toThrow(
      'Conv2d: expected 3 input channels (shape [N, H, W, 3]), received shape [1,8,8,4]',
    );
    expect(() => conv.forward(tf.zeros([8, 8, 3]))).toThrow(
      'Conv2d: expected a rank-4 NHWC input, received shape [8,8,3]',
    );
    expect(() => conv.outputShape([1, 4, 8, 3])).toThrow(
      'Conv2d: kernel 3x3 (dilation 2) is larger than the padded input 4 on axis H; input shape [1,4,8,3]',
    );
    const reflect = new Conv2d({
      inChannels: 3,
      outChannels: 2,
      kernelSize: 5,
      padding: 3,
      paddingMode: 'reflect',
    });
    expect(() => reflect.outputShape([1, 3, 8, 3])).toThrow(
      'Conv2d: reflect padding 3 needs an input larger than it on axis H; input shape [1,3,8,3]',
    );
    conv.dispose();
    reflect.dispose();
  });

  it('counts multiply-adds of grouped convolutions', async () => {
    await useBackend('cpu');
    const conv = new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, groups: 2 });
    expect(conv.weight.shape).toEqual([3, 3, 2, 6]);
    expect(conv.multiplyAdds([[1, 5, 5, 4]], [1, 3, 3, 6])).toBe(9 * 6 * 2 * 9);
    conv.dispose();
  });
});
