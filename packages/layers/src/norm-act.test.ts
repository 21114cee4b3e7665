import { measureLeaks } from '@convkit/backend';
import {
  checkLayerFixtures,
  decodeTensor,
  type EncodedTensor,
  expectCloseTo,
  LAYER_TOLERANCE,
  type LayerFixtureFile,
} from '@convkit/tooling/layer-conformance';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/norm-act.json';
import { LAYER_TYPES, moduleFromJSON } from './from-json';
import type { Module } from './module';

// Normalization, activation and composition layers against PyTorch 1.13
// (fixtures/norm_act.py): forward, input and parameter gradients, buffers after one forward
// (train) or unchanged (eval), no leaks; on cpu and wasm, both at rtol 1e-5 and
// atol 1e-6 x max(1, max|expected|) per tensor.

const build = (c: { module: string; convkit?: string; options?: Record<string, unknown> }) =>
  new LAYER_TYPES[c.convkit ?? c.module](c.options ?? {});

// wasm meets the cpu tolerance on these layers (worst relative error 7e-6, measured).
checkLayerFixtures(fixture as unknown as LayerFixtureFile, {
  build,
  tolerance: { wasm: LAYER_TOLERANCE.cpu },
  fromJSON: (json) => moduleFromJSON<Module>(json as Parameters<typeof moduleFromJSON>[0]),
});

interface MultiInputCase {
  module: string;
  convkit: string;
  options: Record<string, unknown>;
  inputs: EncodedTensor[];
  upstream: EncodedTensor;
  train: { output: EncodedTensor; inputGradients: EncodedTensor[] };
}

const multiInputCases = fixture.multiInputCases as unknown as Record<string, MultiInputCase>;

describe.each(['cpu', 'wasm'] as const)('multi-input layers against PyTorch (%s)', (backend) => {
  it.each(Object.entries(multiInputCases))('%s', async (_name, c) => {
    await useBackend(backend);
    const module = build(c) as Module;
    const inputs = c.inputs.map(decodeTensor);
    const upstream = decodeTensor(c.upstream);
    expect(module.outputShape(...c.inputs.map((e) => e.shape))).toEqual(c.train.output.shape);
    const { result, leakedTensors } = await measureLeaks(() =>
      tf.tidy(() => {
        const f = (...xs: tf.Tensor[]) => tf.sum(tf.mul(module.forward(...xs), upstream));
        return { output: module.forward(...inputs), grads: tf.grads(f)(inputs) };
      }),
    );
    expect(leakedTensors).toBe(0);
    const tolerance = LAYER_TOLERANCE.cpu;
    const read = async (t: tf.Tensor) => ({ shape: t.shape, values: await t.data() });
    expectCloseTo(await read(result.output), c.train.output, tolerance, 'output');
    for (let i = 0; i < inputs.length; i++) {
      const expected = c.train.inputGradients[i];
      expectCloseTo(await read(result.grads[i]), expected, tolerance, `gradient of input ${i}`);
    }
    expect(moduleFromJSON(JSON.parse(JSON.stringify(module.toJSON()))).toJSON()).toEqual(
      module.toJSON(),
    );
    tf.dispose([...inputs, upstream, result.output, ...result.grads]);
  });
});

interface KinkCase {
  layer: string;
  options: Record<string, unknown>;
  x: number[];
  y: number[];
  slope: number[];
}

// Values and derivatives at -6, -3, -1e-3, 0, 1e-3, 3, 6 (and per-layer extra points such as
// Hardtanh's ±1 or Softplus's threshold), from PyTorch's scalar kernels one element at a time (relu'(0) = 0, relu6'(6) = 0, hardswish'(-3) = -0.5, hardswish'(3) = 1.5,
// hardsigmoid'(±3) = 0, ...).
describe.each(['cpu', 'wasm'] as const)(
  'activations at their kinks equal PyTorch (%s)',
  (backend) => {
    it.each(Object.entries(fixture.kinks as Record<string, KinkCase>))('%s', async (_name, c) => {
      await useBackend(backend);
      const module = new LAYER_TYPES[c.layer](c.options);
      const x = tf.tensor1d(c.x);
      const [y, slope] = tf.tidy(() => [
        module.forward(x),
        tf.grad((t: tf.Tensor) => tf.sum(module.forward(t)))(x),
      ]);
      const tolerance = LAYER_TOLERANCE.cpu;
      expectCloseTo(
        { shape: y.shape, values: await y.data() },
        { shape: [c.x.length], values: c.y },
        tolerance,
        'value',
      );
      expectCloseTo(
        { shape: slope.shape, values: await slope.data() },
        { shape: [c.x.length], values: c.slope },
        tolerance,
        'slope',
      );
      tf.dispose([x, y, slope]);
      module.dispose();
    });
  },
);
