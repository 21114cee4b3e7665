import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { pad } from './functional/padding';
import { Identity } from './identity';
import { Unflatten } from './unflatten';
import { ZeroPad2d } from './zero-pad-2d';

describe('ZeroPad2d vs PyTorch', () => checkConvPoolCases('zero-pad-2d'));
describe('Unflatten vs PyTorch', () => checkConvPoolCases('unflatten'));
describe('Identity vs PyTorch', () => checkConvPoolCases('identity'));

describe('padding, Unflatten and Identity options and shapes', () => {
  it('pads with every mode as torch.nn.functional.pad', async () => {
    await useBackend('cpu');
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const row = async (mode: 'reflect' | 'replicate' | 'circular') =>
      Array.from(await pad(x, [2, 1, 0, 0], { mode }).data()).slice(0, 6);
    expect(await row('reflect')).toEqual([3, 2, 1, 2, 3, 2]);
    expect(await row('replicate')).toEqual([1, 1, 1, 2, 3, 3]);
    expect(await row('circular')).toEqual([2, 3, 1, 2, 3, 1]);
    expect(Array.from(await pad(x, 1, { value: -1 }).data()).slice(0, 6)).toEqual([
      -1, -1, -1, -1, -1, -1,
    ]);
    expect(() => pad(x, [3, 0, 0, 0], { mode: 'reflect' })).toThrow(
      'pad: reflect padding must be smaller than the input on axis W, received padding [3,0,0,0] for input shape [1,2,3,1]',
    );
    expect(() => pad(x, [0, 0, -1, -1])).toThrow(
      'pad: padding [0,0,-1,-1] leaves no element on axis H of input shape [1,2,3,1]',
    );
    x.dispose();
  });

  it('rejects bad options and inputs, naming the layer', () => {
    expect(() => new ZeroPad2d({ padding: [1, 2] as never })).toThrow(
      'ZeroPad2d: expected padding to be an integer or [left, right, top, bottom], received [1,2]',
    );
    expect(() => new ZeroPad2d({ padding: 1 }).outputShape([3, 3])).toThrow(
      'ZeroPad2d: expected a rank-4 NHWC input, received shape [3,3]',
    );
    expect(() => new Unflatten({ dim: 1, unflattenedSize: [0, 3] })).toThrow(
      'Unflatten: expected unflattenedSize to be positive integers (at most one -1), received [0,3]',
    );
    expect(() => new Unflatten({ dim: 1, unflattenedSize: [5, 3] }).outputShape([2, 12])).toThrow(
      'Unflatten: unflattenedSize [5,3] does not multiply to 12, the size of axis 1 of input shape [2,12]',
    );
    expect(() => new Unflatten({ dim: 3, unflattenedSize: [2] }).outputShape([2, 12])).toThrow(
      'Unflatten: dim 3 is out of range for input shape [2,12]',
    );
    expect(new Unflatten({ dim: 1, unflattenedSize: [-1, 4] }).outputShape([2, 12])).toEqual([
      2, 3, 4,
    ]);
    expect(new Identity().outputShape([2, 5])).toEqual([2, 5]);
  });
});
