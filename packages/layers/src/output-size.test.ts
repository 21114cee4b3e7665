import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/conv-pool.json';
import { MaxPool2d } from './max-pool-2d';
import { convOutputSize } from './output-size';

interface SizeRow {
  size: number;
  kernelSize: number;
  stride: number;
  padding: number;
  dilation: number;
  ceilMode: boolean;
  output: number | null;
}
const rows = fixture.outputSizes as SizeRow[];

describe('convOutputSize: the course formula (W - K + 2P) / S + 1, with dilation and ceil mode', () => {
  it('gives the textbook sizes', () => {
    expect(convOutputSize(32, { kernelSize: 5 })).toBe(28); // LeNet conv1
    expect(convOutputSize(224, { kernelSize: 11, stride: 4, padding: 2 })).toBe(55); // AlexNet
    expect(convOutputSize(224, { kernelSize: 7, stride: 2, padding: 3 })).toBe(112); // ResNet stem
    expect(convOutputSize(14, { kernelSize: 3, stride: 2, ceilMode: true })).toBe(7); // GoogLeNet
    expect(convOutputSize(14, { kernelSize: 3, stride: 2 })).toBe(6);
    expect(convOutputSize(7, { kernelSize: 3, dilation: 2 })).toBe(3);
    expect(convOutputSize(7, { kernelSize: 3, padding: [0, 2] })).toBe(7);
  });

  it(`equals PyTorch's pooling output size on all ${rows.length} small cases, and refuses where PyTorch does`, () => {
    const wrong: string[] = [];
    for (const r of rows) {
      const options = {
        kernelSize: r.kernelSize,
        stride: r.stride,
        padding: r.padding,
        dilation: r.dilation,
        ceilMode: r.ceilMode,
      };
      const out = convOutputSize(r.size, options);
      const expected = r.output ?? 'refused';
      const got = out >= 1 ? out : 'refused';
      // The layer agrees: it refuses exactly where no window fits.
      const pool = new MaxPool2d({
        ...options,
        kernelSize: [r.kernelSize, 1],
        stride: [r.stride, 1],
        padding: [r.padding, 0],
        dilation: [r.dilation, 1],
      });
      let layer: number | string;
      try {
        layer = pool.outputShape([1, r.size, 1, 1])[1];
      } catch {
        layer = 'refused';
      }
      if (got !== expected || layer !== expected) {
        wrong.push(`${JSON.stringify(r)}: convOutputSize ${got}, MaxPool2d ${layer}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(rows.filter((r) => r.output === null).length).toBeGreaterThan(0);
  });

  it('names the bad argument and echoes it', () => {
    expect(() => convOutputSize(-1, { kernelSize: 3 })).toThrow(
      'convOutputSize: expected inputSize to be an integer >= 0, received -1',
    );
    expect(() => convOutputSize(8, { kernelSize: 0 })).toThrow(
      'convOutputSize: expected kernelSize to be an integer >= 1, received 0',
    );
    expect(() => convOutputSize(8, { kernelSize: 3, stride: 1.5 })).toThrow(
      'convOutputSize: expected stride to be an integer >= 1, received 1.5',
    );
    expect(() => convOutputSize(8, { kernelSize: 3, padding: [1, -1] })).toThrow(
      'convOutputSize: expected padding[1] to be an integer >= 0, received -1',
    );
    expect(() => convOutputSize(8, { kernelSize: 3, ceilMode: 'yes' as never })).toThrow(
      'convOutputSize: expected ceilMode to be a boolean, received "yes"',
    );
    expect(() => convOutputSize(8, undefined as never)).toThrow(
      'convOutputSize: expected options { kernelSize, stride?, padding?, dilation?, ceilMode? }',
    );
  });
});
