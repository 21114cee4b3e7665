import { measureLeaks, StateDictError } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/small-cnn.json';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { moduleFromJSON } from './from-json';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool-2d';
import { ReLU } from './relu';
import { Sequential } from './sequential';
import { summary } from './summary';

type Encoded = { shape: number[]; values: number[] };
const tensorOf = (e: Encoded) => tf.tensor(e.values, e.shape);
const stateOf = () =>
  Object.fromEntries(
    Object.entries(fixture.state as Record<string, Encoded>).map(([k, v]) => [k, tensorOf(v)]),
  );

/** The same network as fixtures/generate.py builds in PyTorch. */
function smallCnn() {
  return new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, stride: 2, padding: 1 }),
    new ReLU(),
    new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 'same', groups: 16 }),
    new ReLU(),
    new Flatten(),
    new Linear({ inFeatures: 32 * 3 * 3, outFeatures: 10 }),
  );
}

describe.each(['cpu', 'wasm'] as const)(
  'a PyTorch model rebuilt with convkit layers (%s)',
  (backend) => {
    const rtol = backend === 'cpu' ? 1e-5 : 1e-4;

    it('loads the PyTorch state dict and reproduces its outputs and gradients', async () => {
      await useBackend(backend);
      const model = smallCnn();
      const state = stateOf();
      model.loadStateDict(state);
      tf.dispose(Object.values(state));
      const x = tensorOf(fixture.input);
      const upstream = tensorOf(fixture.upstream);
      const { result, leakedTensors } = await measureLeaks(() =>
        tf.tidy(() => {
          const output = model.forward(x);
          const variables = model.namedParameters();
          const f = (input: tf.Tensor) => tf.sum(tf.mul(model.forward(input), upstream));
          const inputGradient = tf.grad(f)(x);
          const { grads } = tf.variableGrads(
            () => f(x) as tf.Scalar,
            variables.map(([, p]) => p.variable),
          );
          const byKey: Record<string, tf.Tensor> = Object.fromEntries(
            variables.map(([key, p]) => [key, grads[p.variable.name]]),
          );
          return { output, inputGradient, grads: byKey };
        }),
      );
      expect(leakedTensors).toBe(0);
      assertAllClose(await result.output.data(), fixture.output.values, {
        rtol,
        atol: 1e-6,
        label: 'output',
      });
      assertAllClose(await result.inputGradient.data(), fixture.inputGradient.values, {
        rtol,
        atol: 1e-6,
        label: 'input gradient',
      });
      for (const [key, grad] of Object.entries(result.grads)) {
        const expected = (fixture.gradients as Record<string, Encoded>)[key];
        expect(grad.shape, key).toEqual(expected.shape);
        assertAllClose(await grad.data(), expected.values, {
          rtol,
          atol: 1e-5,
          label: `gradient of ${key}`,
        });
      }
      tf.dispose([
        x,
        upstream,
        result.output,
        result.inputGradient,
        ...Object.values(result.grads),
      ]);
      model.dispose();
    });
  },
);

describe('module system', () => {
  it('names parameters with PyTorch keys and shapes (after layout conversion)', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    const state = model.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(fixture.state));
    for (const [key, t] of Object.entries(state)) {
      expect(t.shape, key).toEqual((fixture.state as Record<string, Encoded>)[key].shape);
    }
    model.dispose();
  });

  it('reports missing, unexpected and mis-shaped keys together and writes nothing', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    const before = await model.stateDict()['0.bias'].data();
    const state = stateOf();
    const wrong: Record<string, tf.Tensor> = {
      ...state,
      'fc.weight': tf.zeros([2]),
      '3.weight': tf.zeros([3, 3, 8, 15]),
    };
    delete wrong['8.bias'];
    expect(() => model.loadStateDict(wrong)).toThrow(
      /Sequential\.loadStateDict: 3 problem\(s\):\n {2}3\.weight: expected shape \[3,3,8,16\], received \[3,3,8,15\]\n {2}missing key 8\.bias\n {2}unexpected key fc\.weight/,
    );
    expect(() => model.loadStateDict(wrong)).toThrow(StateDictError);
    expect(Array.from(await model.stateDict()['0.bias'].data())).toEqual(Array.from(before));
    delete wrong['3.weight'];
    wrong['3.weight'] = state['3.weight'];
    expect(model.loadStateDict(wrong, { strict: false })).toEqual({
      missingKeys: ['8.bias'],
      unexpectedKeys: ['fc.weight'],
    });
    tf.dispose([...Object.values(state), wrong['fc.weight']]);
    model.dispose();
  });

  it('summarizes shapes, parameter counts equal to PyTorch and multiply-adds', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    const before = tf.memory().numTensors;
    const s = summary(model, [1, 12, 12, 3]);
    expect(tf.memory().numTensors).toBe(before);
    expect(s.trainableParams).toBe(fixture.parameterCount);
    expect(s.rows.map((r) => r.outputShape)).toEqual([
      [1, 12, 12, 8],
      [1, 12, 12, 8],
      [1, 6, 6, 8],
      [1, 3, 3, 16],
      [1, 3, 3, 16],
      [1, 3, 3, 32],
      [1, 3, 3, 32],
      [1, 288],
      [1, 10],
    ]);
    expect(s.rows[0].multiplyAdds).toBe(12 * 12 * 8 * 3 * 9);
    expect(s.rows[5].multiplyAdds).toBe(3 * 3 * 32 * 9);
    expect(s.text).toContain(`total params: ${fixture.parameterCount.toLocaleString('en-US')}`);
    expect(model.outputShape([5, 12, 12, 3])).toEqual([5, 10]);
    model.dispose();
  });

  it('round-trips the architecture through JSON', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const rebuilt = moduleFromJSON(json);
    expect(Object.entries(rebuilt.stateDict()).map(([k, t]) => [k, t.shape])).toEqual(
      Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]),
    );
    expect(() => moduleFromJSON({ type: 'Conv3d', config: {} })).toThrow(
      "unknown module type 'Conv3d'",
    );
    // Object's own methods are not module types (a hostile JSON cannot reach them).
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => moduleFromJSON({ type, config: {} })).toThrow(`unknown module type '${type}'`);
    }
    model.dispose();
    rebuilt.dispose();
  });

  it('freezes and unfreezes parameters and switches train / eval mode', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    expect(model.trainableVariables()).toHaveLength(8);
    model.layers[0].freeze();
    expect(model.trainableVariables()).toHaveLength(6);
    expect(model.layers[0].frozen).toBe(true);
    model.unfreeze();
    expect(model.trainableVariables()).toHaveLength(8);
    model.eval();
    expect(model.namedModules().every(([, m]) => !m.training)).toBe(true);
    model.train();
    expect(model.layers[8].training).toBe(true);
    model.dispose();
  });

  it('names the module path and the shapes in shape errors', async () => {
    await useBackend('cpu');
    const model = smallCnn();
    model.namedModules();
    expect(() => model.outputShape([1, 12, 12, 4])).toThrow(
      '0 (Conv2d): expected 3 input channels (shape [N, H, W, 3]), received shape [1,12,12,4]',
    );
    expect(() => model.outputShape([1, 1, 1, 3])).toThrow(
      /2 \(MaxPool2d\): kernel 2x2 is larger than the padded input/,
    );
    expect(() => model.forward(tf.zeros([1, 12, 12]))).toThrow(
      '0 (Conv2d): expected a rank-4 NHWC input, received shape [1,12,12]',
    );
    expect(() => new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, groups: 4 })).toThrow(
      'Conv2d: groups must divide inChannels and outChannels',
    );
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(
      'Linear: expected inFeatures to be a positive integer, received 0',
    );
    model.dispose();
  });

  it('initializes with PyTorch bounds U(±1/sqrt(fanIn))', async () => {
    await useBackend('cpu');
    const conv = new Conv2d({ inChannels: 3, outChannels: 64, kernelSize: 3 });
    const bound = 1 / Math.sqrt(27);
    const w = await conv.weight.variable.data();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(bound * 0.95);
    conv.dispose();
  });
});
