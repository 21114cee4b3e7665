import { manualSeed } from '@convkit/backend';
import { kaimingNormal, zeros } from '@convkit/initializers';
import { Param } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { reinit } from './init';

async function std(param: Param): Promise<number> {
  const values = Array.from(await param.variable.data<'float32'>());
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
}

describe('reinit: fans from the parameter layout (torchvision init_weights)', () => {
  beforeEach(async () => {
    await useBackend('cpu');
    manualSeed(3);
  });

  // kaiming_normal_(mode='fan_out') has std sqrt(2 / fanOut); PyTorch's fanOut of each layout is
  // checked against torch in @convkit/backend's computeFans fixtures.
  it.each([
    { layout: 'HWIO', shape: [3, 3, 16, 64], fanOut: 64 * 9 },
    { layout: 'HWCM', shape: [3, 3, 96, 1], fanOut: 96 * 9 },
    { layout: 'HWOI', shape: [2, 2, 32, 48], fanOut: 48 * 4 },
    { layout: 'IO', shape: [256, 100], fanOut: 100 },
  ] as const)('$layout: Kaiming normal fan-out has std sqrt(2 / $fanOut)', async (c) => {
    const param = new Param(tf.zeros([...c.shape]), c.layout);
    const before = tf.memory().numTensors;
    reinit(param, kaimingNormal({ mode: 'fanOut' }));
    expect(tf.memory().numTensors).toBe(before);
    expect(await std(param)).toBeCloseTo(Math.sqrt(2 / c.fanOut), 2);
    param.variable.dispose();
  });

  it('a vector takes initializers without fans and refuses those that need them', async () => {
    const bias = new Param(tf.ones([8]), 'vector');
    reinit(bias, zeros());
    expect(Array.from(await bias.variable.data())).toEqual(new Array(8).fill(0));
    expect(() => reinit(bias, kaimingNormal())).toThrow(
      'cannot compute fans of a rank-1 shape [8]',
    );
    bias.variable.dispose();
  });
});
