import { useBackend } from '@convkit/tooling/testing';
import { describe, expect, it } from 'vitest';
import { checkConvPoolCases } from './__fixtures__/conv-pool-cases';
import { ConvTranspose2d } from './conv-transpose-2d';

describe('ConvTranspose2d vs PyTorch', () => checkConvPoolCases('conv-transpose-2d-'));

describe('ConvTranspose2d options and shapes', () => {
  it('rejects bad options and inputs', async () => {
    await useBackend('cpu');
    const base = { inChannels: 4, outChannels: 6, kernelSize: 3 };
    expect(() => new ConvTranspose2d({ ...base, stride: 2, outputPadding: 2 })).toThrow(
      'ConvTranspose2d: outputPadding must be smaller than stride or dilation, received outputPadding 2, stride 2, dilation 1',
    );
    expect(() => new ConvTranspose2d({ ...base, groups: 3 })).toThrow(
      'ConvTranspose2d: groups must divide inChannels and outChannels; received groups=3',
    );
    const layer = new ConvTranspose2d({ ...base, padding: 2 });
    expect(layer.weight.layout).toBe('HWOI');
    expect(layer.weight.shape).toEqual([3, 3, 6, 4]);
    expect(() => layer.outputShape([1, 1, 5, 4])).toThrow(
      'ConvTranspose2d: padding 2 leaves an empty output (-1) on axis H; input shape [1,1,5,4]',
    );
    expect(() => layer.outputShape([1, 5, 5, 3])).toThrow(
      'ConvTranspose2d: expected 4 input channels (shape [N, H, W, 4]), received shape [1,5,5,3]',
    );
    expect(layer.outputShape([2, 5, 4, 4])).toEqual([2, 3, 2, 6]);
    layer.dispose();
  });
});
