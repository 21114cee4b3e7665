import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { pixelShuffle, pixelUnshuffle } from './functional/pixel-shuffle';
import { PixelShuffle } from './pixel-shuffle';
import { PixelUnshuffle } from './pixel-unshuffle';

describe('PixelShuffle vs PyTorch', () => checkConvPoolCases('pixel-shuffle-'));
describe('PixelUnshuffle vs PyTorch', () => checkConvPoolCases('pixel-unshuffle-'));

describe.each(['cpu', 'wasm'] as const)('pixel shuffle (%s)', (backend) => {
  it('unshuffle inverts shuffle and the reverse, without leaks', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([2, 3, 4, 18], 0, 1, 'float32', 3);
    const { result, leakedTensors } = await measureLeaks(() =>
      tf.tidy(() => {
        const up = pixelShuffle(x, 3); // [2, 9, 12, 2]
        return [up, pixelUnshuffle(up, 3)];
      }),
    );
    expect(leakedTensors).toBe(0);
    expect(result[0].shape).toEqual([2, 9, 12, 2]);
    expect(Array.from(await result[1].data())).toEqual(Array.from(await x.data()));
    tf.dispose([x, ...result]);
  });
});

describe('pixel shuffle errors name the layer, the argument and the value', () => {
  it('refuses bad factors and inputs', async () => {
    await useBackend('cpu');
    expect(() => new PixelShuffle({ upscaleFactor: 0 })).toThrow(
      'PixelShuffle: expected upscaleFactor to be a positive integer, received 0',
    );
    expect(() => new PixelUnshuffle({ downscaleFactor: 1.5 })).toThrow(
      'PixelUnshuffle: expected downscaleFactor to be a positive integer, received 1.5',
    );
    expect(() => new PixelShuffle({ upscaleFactor: 2 }).outputShape([1, 4, 4, 6])).toThrow(
      'PixelShuffle: expected an NHWC input whose channels are divisible by upscaleFactor² = 4, received shape [1,4,4,6]',
    );
    expect(() => new PixelUnshuffle({ downscaleFactor: 2 }).outputShape([1, 4, 5, 1])).toThrow(
      'PixelUnshuffle: expected an NHWC input whose height and width are divisible by downscaleFactor 2, received shape [1,4,5,1]',
    );
    const x = tf.zeros([4, 4, 4]);
    expect(() => new PixelShuffle({ upscaleFactor: 2 }).forward(x)).toThrow(
      'PixelShuffle: expected an NHWC input',
    );
    x.dispose();
  });
});
