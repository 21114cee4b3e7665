import { measureLeaks } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/norm-act.json';
import { BatchNorm1d } from './batch-norm-1d';
import { BatchNorm2d } from './batch-norm-2d';
import { Conv2d } from './conv2d';
import { InstanceNorm2d } from './instance-norm-2d';
import { Sequential } from './sequential';

type Encoded = { shape: number[]; values: number[]; dtype?: string };
const decode = (e: Encoded) => tf.tensor(e.values, e.shape, (e.dtype as 'int32') ?? 'float32');
const decodeState = (s: Record<string, Encoded>) =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, decode(v)]));
const bn2d = fixture.cases.BatchNorm2d as unknown as {
  state: Record<string, Encoded>;
  input: Encoded;
  train: { output: Encoded; buffers: Record<string, Encoded> };
  eval: { output: Encoded };
};

async function values(module: { stateDict(): Record<string, tf.Tensor> }) {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(module.stateDict())) out[k] = Array.from(await t.data());
  return out;
}

describe.each(['cpu', 'wasm'] as const)('BatchNorm train / eval / frozen (%s)', (backend) => {
  const rtol = backend === 'cpu' ? 1e-5 : 1e-4;

  it('train mode normalizes with batch statistics, eval mode with running ones', async () => {
    await useBackend(backend);
    const bn = new BatchNorm2d({ numFeatures: 2, affine: false });
    const x = tf.tensor4d([1, 10, 3, 20, 5, 30, 7, 40], [2, 2, 1, 2]);
    const train = tf.tidy(() => bn.forward(x));
    // Channel 0: mean 4, biased variance 5; channel 1: mean 25, variance 125.
    const expected = [1, 10, 3, 20, 5, 30, 7, 40].map((v, i) =>
      i % 2 === 0 ? (v - 4) / Math.sqrt(5 + 1e-5) : (v - 25) / Math.sqrt(125 + 1e-5),
    );
    assertAllClose(await train.data(), expected, { rtol, atol: 1e-6 });
    // One update: 0.9 * default + 0.1 * batch (variance unbiased: 5 * 4 / 3, 125 * 4 / 3).
    const state = await values(bn);
    assertAllClose(state.running_mean, [0.4, 2.5], { rtol });
    assertAllClose(state.running_var, [0.9 + 0.1 * (20 / 3), 0.9 + 0.1 * (500 / 3)], { rtol });
    expect(state.num_batches_tracked).toEqual([1]);
    bn.eval();
    const evaluated = tf.tidy(() => bn.forward(x));
    const rm = state.running_mean;
    const rv = state.running_var;
    assertAllClose(
      await evaluated.data(),
      [1, 10, 3, 20, 5, 30, 7, 40].map((v, i) => (v - rm[i % 2]) / Math.sqrt(rv[i % 2] + 1e-5)),
      { rtol, atol: 1e-6 },
    );
    expect(await values(bn)).toEqual(state);
    tf.dispose([x, train, evaluated]);
    bn.dispose();
  });

  it('a frozen BatchNorm runs in inference mode in train mode and leaves its buffers alone', async () => {
    await useBackend(backend);
    const model = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 3, kernelSize: 1 }),
      new BatchNorm2d({ numFeatures: 3 }),
    );
    const bn = model.layers[1] as BatchNorm2d;
    const state = decodeState(bn2d.state);
    bn.loadStateDict(state);
    tf.dispose(Object.values(state));
    model.freeze();
    expect(model.training).toBe(true);
    expect(bn.weight!.trainable).toBe(false);
    const before = await values(bn);
    const x = decode(bn2d.input);
    const y = tf.tidy(() => bn.forward(x));
    assertAllClose(await y.data(), bn2d.eval.output.values, { rtol, atol: 1e-6 });
    expect(await values(bn)).toEqual(before);
    // Unfrozen again it trains: batch statistics and one update, as PyTorch.
    model.unfreeze();
    const z = tf.tidy(() => bn.forward(x));
    assertAllClose(await z.data(), bn2d.train.output.values, { rtol, atol: 1e-6 });
    const after = await values(bn);
    for (const [key, buffer] of Object.entries(bn2d.train.buffers)) {
      assertAllClose(after[key], buffer.values, { rtol, atol: 1e-6, label: key });
    }
    tf.dispose([x, y, z]);
    model.dispose();
  });

  it('momentum null keeps the cumulative average of the batch statistics', async () => {
    await useBackend(backend);
    const bn = new BatchNorm1d({ numFeatures: 2, momentum: null });
    const means: number[][] = [[], []];
    const vars: number[][] = [[], []];
    for (let step = 0; step < 5; step++) {
      const data = Array.from({ length: 8 }, (_, i) => Math.sin(step * 7 + i) * (step + 1) + step);
      const x = tf.tensor2d(data, [4, 2]);
      tf.tidy(() => bn.forward(x));
      x.dispose();
      for (let c = 0; c < 2; c++) {
        const col = [0, 1, 2, 3].map((r) => data[r * 2 + c]);
        const mean = col.reduce((a, b) => a + b) / 4;
        means[c].push(mean);
        vars[c].push(col.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
      }
    }
    const average = (a: number[]) => a.reduce((s, v) => s + v) / a.length;
    const state = await values(bn);
    expect(state.num_batches_tracked).toEqual([5]);
    assertAllClose(state.running_mean, means.map(average), { rtol: 1e-5, atol: 1e-6 });
    assertAllClose(state.running_var, vars.map(average), { rtol: 1e-5, atol: 1e-6 });
    bn.dispose();
  });

  it('leaks no tensor over many training steps that update the running statistics', async () => {
    await useBackend(backend);
    const bn = new BatchNorm2d({ numFeatures: 4 });
    const inorm = new InstanceNorm2d({ numFeatures: 4, trackRunningStats: true, affine: true });
    const x = tf.randomNormal([2, 3, 3, 4]);
    const step = () =>
      tf.tidy(() => {
        const vars = [...bn.trainableVariables(), ...inorm.trainableVariables()];
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.square(inorm.forward(bn.forward(x)))) as tf.Scalar,
          vars,
        );
        for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
        return value;
      });
    step().dispose();
    const { leakedTensors, leakedBytes, result } = await measureLeaks(() => {
      for (let i = 0; i < 30; i++) step().dispose();
    });
    expect(result).toBeUndefined();
    expect(leakedTensors).toBe(0);
    expect(leakedBytes).toBe(0);
    expect((await values(bn)).num_batches_tracked).toEqual([31]);
    x.dispose();
    bn.dispose();
    inorm.dispose();
  });
});

describe('BatchNorm state and validation', () => {
  it('has PyTorch keys, int32 num_batches_tracked, and none without affine / running stats', async () => {
    await useBackend('cpu');
    const bn = new BatchNorm2d({ numFeatures: 3 });
    expect(Object.keys(bn.stateDict())).toEqual([
      'weight',
      'bias',
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    expect(bn.stateDict().num_batches_tracked.dtype).toBe('int32');
    expect(bn.namedParameters().map(([k, p]) => [k, p.layout])).toEqual([
      ['weight', 'vector'],
      ['bias', 'vector'],
    ]);
    const bare = new BatchNorm2d({ numFeatures: 3, affine: false, trackRunningStats: false });
    expect(Object.keys(bare.stateDict())).toEqual([]);
    expect(Object.keys(new InstanceNorm2d({ numFeatures: 3 }).stateDict())).toEqual([]);
    const x = tf.ones([1, 1, 1, 3]);
    // Without running statistics even eval mode uses the batch, which needs > 1 value.
    bare.eval();
    expect(() => bare.forward(x)).toThrow(/more than 1 value per channel/);
    bn.dispose();
    x.dispose();
  });

  it('names the layer, the expected and the received shape', async () => {
    await useBackend('cpu');
    const model = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 1 }),
      new BatchNorm2d({ numFeatures: 3 }),
    );
    model.namedModules();
    expect(() => model.outputShape([2, 5, 5, 3])).toThrow(
      '1 (BatchNorm2d): expected input of shape [N, H, W, 3], received shape [2,5,5,4]',
    );
    const bn1 = new BatchNorm1d({ numFeatures: 5 });
    const x = tf.zeros([2, 4]);
    expect(() => bn1.forward(x)).toThrow(
      'BatchNorm1d: expected input of shape [N, 5] or [N, L, 5], received shape [2,4]',
    );
    const one = tf.zeros([1, 5]);
    expect(() => bn1.forward(one)).toThrow(
      'BatchNorm1d: expected more than 1 value per channel when normalizing with input statistics (train mode), received input shape [1,5]',
    );
    bn1.eval();
    tf.tidy(() => bn1.forward(one)); // running statistics: fine
    const instance = new InstanceNorm2d({ numFeatures: 2 });
    const pixel = tf.zeros([3, 1, 1, 2]);
    expect(() => instance.forward(pixel)).toThrow(/more than 1 value per channel and sample/);
    tf.dispose([x, one, pixel]);
    model.dispose();
    bn1.dispose();
  });

  it('rejects bad options, echoing the value', () => {
    expect(() => new BatchNorm2d({ numFeatures: 0 })).toThrow(
      'BatchNorm2d: expected numFeatures to be a positive integer, received 0',
    );
    expect(() => new BatchNorm2d({ numFeatures: 2, momentum: 1.5 })).toThrow(
      'BatchNorm2d: expected momentum to be a number in [0, 1] or null, received 1.5',
    );
    expect(() => new BatchNorm1d({ numFeatures: 2, eps: -1 })).toThrow(
      'BatchNorm1d: expected eps to be a number >= 0, received -1',
    );
    expect(
      () => new InstanceNorm2d({ numFeatures: 2, momentum: null as unknown as number }),
    ).toThrow('InstanceNorm2d: expected momentum to be a number in [0, 1], received null');
  });
});
