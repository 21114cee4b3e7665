import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { AdaptiveAvgPool2d } from './adaptive-avg-pool-2d';
import { AdaptiveMaxPool2d } from './adaptive-max-pool-2d';
import { AvgPool2d } from './avg-pool-2d';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from './functional/pooling';
import { GlobalAvgPool2d } from './global-avg-pool-2d';
import { MaxPool2d } from './max-pool-2d';

describe('MaxPool2d vs PyTorch', () => checkConvPoolCases('max-pool-2d-'));
describe('AvgPool2d vs PyTorch', () => checkConvPoolCases('avg-pool-2d-'));
describe('AdaptiveAvgPool2d vs PyTorch', () => checkConvPoolCases('adaptive-avg-pool-2d-'));
describe('AdaptiveMaxPool2d vs PyTorch', () => checkConvPoolCases('adaptive-max-pool-2d-'));
describe('GlobalAvgPool2d vs PyTorch (x.mean((2, 3)))', () =>
  checkConvPoolCases('global-avg-pool-2d'));

describe('pooling options and shapes', () => {
  it('rejects bad options at construction, naming the layer and echoing the value', () => {
    expect(() => new MaxPool2d({ kernelSize: 2, padding: 2 })).toThrow(
      'MaxPool2d: padding should be at most half of the kernel size, received padding 2 for kernelSize 2',
    );
    expect(() => new MaxPool2d({ kernelSize: 2, dilation: 0 })).toThrow(
      'MaxPool2d: expected dilation to be an integer >= 1 or a pair of them, received 0',
    );
    expect(() => new AvgPool2d({ kernelSize: 3, divisorOverride: 0 })).toThrow(
      'AvgPool2d: expected divisorOverride to be a positive integer, received 0',
    );
    expect(() => new AdaptiveAvgPool2d({ outputSize: [2, 0] as never })).toThrow(
      'AdaptiveAvgPool2d: expected outputSize to be a positive integer or a pair of them (null keeps the input size), received [2,0]',
    );
    expect(() => new AdaptiveMaxPool2d({ outputSize: 1.5 })).toThrow(
      'AdaptiveMaxPool2d: expected outputSize',
    );
    expect(() => new GlobalAvgPool2d({ keepDims: 'yes' as never })).toThrow(
      'GlobalAvgPool2d: expected keepDims to be a boolean, received "yes"',
    );
  });

  it('names the layer and shapes in input errors (rank, kernel larger than padded input)', async () => {
    await useBackend('cpu');
    const pool = new MaxPool2d({ kernelSize: 3, dilation: 2 });
    expect(() => pool.outputShape([1, 4, 9, 2])).toThrow(
      'MaxPool2d: kernel 3x3 (dilation 2) is larger than the padded input 4 on axis H; input shape [1,4,9,2]',
    );
    expect(() => new AvgPool2d({ kernelSize: 3, padding: 1 }).outputShape([1, 9, 0, 2])).toThrow(
      'AvgPool2d: kernel 3x3 is larger than the padded input 2 on axis W; input shape [1,9,0,2]',
    );
    expect(() => pool.forward(tf.zeros([4, 4, 2]))).toThrow(
      'MaxPool2d: expected a rank-4 NHWC input, received shape [4,4,2]',
    );
    expect(() => new AdaptiveAvgPool2d({ outputSize: 2 }).outputShape([4, 4])).toThrow(
      'AdaptiveAvgPool2d: expected a rank-4 NHWC input, received shape [4,4]',
    );
    expect(() => new GlobalAvgPool2d().outputShape([4, 4, 2])).toThrow(
      'GlobalAvgPool2d: expected a rank-4 NHWC input, received shape [4,4,2]',
    );
    expect(() => maxPool2d(tf.zeros([1, 2, 2, 1]), { kernelSize: 3 })).toThrow(
      'maxPool2d: kernel 3x3 is larger than the padded input 2 on axis H',
    );
  });

  it('functional forms equal the classes (one implementation)', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 1);
    const pairs: [tf.Tensor, tf.Tensor][] = [
      [
        maxPool2d(x, { kernelSize: 3, stride: 2, ceilMode: true, dilation: [1, 2] }),
        new MaxPool2d({ kernelSize: 3, stride: 2, ceilMode: true, dilation: [1, 2] }).forward(x),
      ],
      [
        avgPool2d(x, { kernelSize: 3, padding: 1, countIncludePad: false }),
        new AvgPool2d({ kernelSize: 3, padding: 1, countIncludePad: false }).forward(x),
      ],
      [adaptiveAvgPool2d(x, [4, 3]), new AdaptiveAvgPool2d({ outputSize: [4, 3] }).forward(x)],
    ];
    for (const [a, b] of pairs) {
      expect(a.shape).toEqual(b.shape);
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    }
    tf.dispose([x, ...pairs.flat()]);
  });
});
