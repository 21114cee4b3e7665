import { measureLeaks } from '@convkit/backend';
import {
  decodeTensor,
  type EncodedTensor,
  expectCloseTo,
  LAYER_TOLERANCE,
} from '@convkit/tooling/layer-conformance';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/conv-pool.json';
import { moduleFromJSON } from './from-json';
import { maxPool2dWithIndices, maxUnpool2d } from './functional/pooling';
import { MaxPool2d, type MaxPool2dOptions } from './max-pool-2d';
import { MaxUnpool2d, type MaxUnpool2dOptions } from './max-unpool-2d';

// MaxPool2d(returnIndices) and MaxUnpool2d against PyTorch 1.13 (fixtures/conv_pool.py): the
// indices are PyTorch's own numbers (h·W + w per sample and channel), stored in NHWC order.

interface IndicesCase {
  options: MaxPool2dOptions;
  input: EncodedTensor;
  output: EncodedTensor;
  indices: EncodedTensor;
}
interface UnpoolCase {
  options: MaxUnpool2dOptions;
  outputSize: [number, number] | null;
  input: EncodedTensor;
  indices: EncodedTensor;
  output: EncodedTensor;
  upstream: EncodedTensor;
  inputGradient: EncodedTensor;
}
const INDICES = fixture.indices as unknown as Record<string, IndicesCase>;
const UNPOOL = fixture.unpool as unknown as Record<string, UnpoolCase>;
const read = async (t: tf.Tensor) => ({ shape: t.shape, values: await t.data() });

describe.each(['cpu', 'wasm'] as const)('MaxPool2d returnIndices vs PyTorch (%s)', (backend) => {
  it.each(Object.entries(INDICES))('%s', async (_name, c) => {
    await useBackend(backend);
    const x = decodeTensor(c.input);
    const pool = new MaxPool2d({ ...c.options, returnIndices: true });
    const { result, leakedTensors } = await measureLeaks(() =>
      tf.tidy(() => pool.forward(x) as unknown as [tf.Tensor, tf.Tensor]),
    );
    expect(leakedTensors).toBe(0);
    const [output, indices] = result;
    expect(indices.dtype).toBe('int32');
    expect(indices.shape).toEqual(c.indices.shape);
    expect(Array.from(await indices.data())).toEqual(c.indices.values);
    expectCloseTo(await read(output), c.output, LAYER_TOLERANCE[backend], 'output');
    // The functional form and forwardWithIndices give the same.
    const [output2, indices2] = maxPool2dWithIndices(x, c.options);
    const [output3, indices3] = new MaxPool2d(c.options).forwardWithIndices(x);
    for (const t of [indices2, indices3])
      expect(Array.from(await t.data())).toEqual(c.indices.values);
    for (const t of [output2, output3])
      expect(Array.from(await t.data())).toEqual(Array.from(await output.data()));
    tf.dispose([x, output, indices, output2, indices2, output3, indices3]);
  });
});

describe.each(['cpu', 'wasm'] as const)('MaxUnpool2d vs PyTorch (%s)', (backend) => {
  it.each(Object.entries(UNPOOL))('%s: output and input gradient, no leaks', async (_name, c) => {
    await useBackend(backend);
    const x = decodeTensor(c.input);
    const indices = decodeTensor(c.indices);
    const upstream = decodeTensor(c.upstream);
    const unpool = new MaxUnpool2d(c.options);
    const run = (t: tf.Tensor) =>
      c.outputSize
        ? maxUnpool2d(t, indices, { ...c.options, outputSize: c.outputSize })
        : unpool.forward(t, indices);
    if (!c.outputSize)
      expect(unpool.outputShape(c.input.shape, c.indices.shape)).toEqual(c.output.shape);
    const { result, leakedTensors } = await measureLeaks(() =>
      tf.tidy(() => ({
        output: run(x),
        gradient: tf.grad((t: tf.Tensor) => tf.sum(tf.mul(run(t), upstream)))(x),
      })),
    );
    expect(leakedTensors).toBe(0);
    expectCloseTo(await read(result.output), c.output, LAYER_TOLERANCE[backend], 'output');
    expectCloseTo(
      await read(result.gradient),
      c.inputGradient,
      LAYER_TOLERANCE[backend],
      'input gradient',
    );
    tf.dispose([x, indices, upstream, result.output, result.gradient]);
  });

  it('pool then unpool keeps each maximum in place and zeros the rest', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([2, 6, 4, 3], 0, 1, 'float32', 11);
    const pool = new MaxPool2d({ kernelSize: 2, returnIndices: true });
    const unpool = new MaxUnpool2d({ kernelSize: 2 });
    const restored = tf.tidy(() => {
      const [pooled, indices] = pool.forward(x) as unknown as [tf.Tensor, tf.Tensor];
      return unpool.forward(pooled, indices);
    });
    const xs = await x.data();
    const ys = await restored.data();
    let kept = 0;
    for (let i = 0; i < xs.length; i++) {
      if (ys[i] !== 0) {
        expect(ys[i]).toBe(xs[i]);
        kept++;
      }
    }
    expect(kept).toBe(2 * 3 * 2 * 3);
    tf.dispose([x, restored]);
  });
});

describe('MaxPool2d indices and MaxUnpool2d: JSON and errors', () => {
  it('round-trip through JSON', () => {
    for (const layer of [
      new MaxPool2d({ kernelSize: 3, stride: 2, returnIndices: true }),
      new MaxUnpool2d({ kernelSize: 3, stride: 2, padding: 1 }),
    ]) {
      const json = JSON.parse(JSON.stringify(layer.toJSON()));
      expect(moduleFromJSON(json).toJSON()).toEqual(layer.toJSON());
    }
  });

  it('names the layer, the argument and the value', async () => {
    await useBackend('cpu');
    expect(() => new MaxPool2d({ kernelSize: 2, returnIndices: 1 as never })).toThrow(
      'MaxPool2d: expected returnIndices to be a boolean, received 1',
    );
    expect(() => new MaxUnpool2d({ kernelSize: 0 })).toThrow(
      'MaxUnpool2d: expected kernelSize to be an integer >= 1 or a pair of them, received 0',
    );
    const unpool = new MaxUnpool2d({ kernelSize: 2 });
    const x = tf.zeros([1, 2, 2, 3]);
    const floatIndices = tf.zeros([1, 2, 2, 3]);
    const wrongShape = tf.zeros([1, 2, 2, 1], 'int32');
    const indices = tf.zeros([1, 2, 2, 3], 'int32');
    expect(() => unpool.forward(x, floatIndices)).toThrow(
      'MaxUnpool2d: expected indices to be an int32 tensor (from MaxPool2d with returnIndices), received dtype float32',
    );
    expect(() => unpool.forward(x, wrongShape)).toThrow(
      "MaxUnpool2d: expected indices of the input's shape [1,2,2,3] (as max pooling returned them), received shape [1,2,2,1]",
    );
    expect(() => maxUnpool2d(x, indices, { kernelSize: 2, outputSize: [6, 4] })).toThrow(
      'maxUnpool2d: expected outputSize [H, W] strictly between [2,2] and [6,6] (one stride around the default [4,4]), received [6,4]',
    );
    expect(() => unpool.forward(tf.zeros([2, 2, 3]), indices)).toThrow(
      'MaxUnpool2d: expected a rank-4 NHWC input, received shape [2,2,3]',
    );
    tf.dispose([x, floatIndices, wrongShape, indices]);
  });
});
