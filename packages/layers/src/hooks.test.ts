import { measureLeaks } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { activationGradient, forwardWithActivations } from './intermediate';
import { Linear } from './linear';
import { ReLU } from './relu';
import { Sequential } from './sequential';

function net() {
  return new Sequential(
    new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new Flatten(),
    new Sequential(new Linear({ inFeatures: 48, outFeatures: 5 })),
  );
}

describe.each(['cpu', 'wasm'] as const)('forward hooks (%s)', (backend) => {
  it('read and replace outputs, are removed, and leave no own forward behind', async () => {
    await useBackend(backend);
    const model = net();
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 1);
    const relu = model.getSubmodule('1');
    const seen: number[][] = [];
    const reader = relu.registerForwardHook((_m, inputs, output) => {
      seen.push([inputs.length, ...output.shape]);
      return undefined;
    });
    const doubler = model.getSubmodule('3.0').registerForwardHook((_m, _i, out) => tf.mul(out, 2));
    expect(Object.hasOwn(relu, 'forward')).toBe(true);
    const { result, leakedTensors } = await measureLeaks(() =>
      tf.tidy(() => {
        const hooked = model.forward(x);
        doubler.remove();
        doubler.remove(); // idempotent
        const plain = model.forward(x);
        return tf.sub(hooked, tf.mul(plain, 2));
      }),
    );
    expect(leakedTensors).toBe(0);
    expect(Math.max(...(await result.abs().data()))).toBe(0);
    expect(seen).toEqual([
      [1, 2, 4, 4, 3],
      [1, 2, 4, 4, 3],
    ]);
    reader.remove();
    expect(Object.hasOwn(relu, 'forward')).toBe(false);
    expect(Object.hasOwn(model.getSubmodule('3.0'), 'forward')).toBe(false);
    expect(Object.keys(relu)).not.toContain('forward');
    tf.dispose([x, result]);
    model.dispose();
  });

  it('a replaced output is differentiated through inside tf.grad', async () => {
    await useBackend(backend);
    const model = net();
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 2);
    const f = (input: tf.Tensor) => tf.sum(model.forward(input)) as tf.Scalar;
    const plain = tf.grad(f)(x);
    const handle = model.getSubmodule('0').registerForwardHook((_m, _i, out) => tf.mul(out, 3));
    const before = tf.memory().numTensors;
    const tripled = tf.tidy(() => tf.grad(f)(x));
    expect(tf.memory().numTensors).toBe(before + 1);
    handle.remove();
    // ReLU is positively homogeneous: scaling conv1's output by 3 scales d sum / dx by 3.
    assertAllClose(await tripled.data(), await tf.mul(plain, 3).data(), { rtol: 1e-5 });
    tf.dispose([x, plain, tripled]);
    model.dispose();
  });

  it('forwardWithActivations and activationGradient return exact values and leak nothing', async () => {
    await useBackend(backend);
    const model = net();
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
    const upstream = tf.randomNormal([2, 5], 0, 1, 'float32', 4);
    const objective = (out: tf.Tensor) => tf.sum(tf.mul(out, upstream)) as tf.Scalar;
    const { result, leakedTensors } = await measureLeaks(() => ({
      captured: forwardWithActivations(model, x, ['1', '2']),
      grad: activationGradient(model, x, '1', objective),
    }));
    expect(leakedTensors).toBe(0);
    const { captured, grad } = result;
    // The rest of the network after '1', differentiated directly.
    const rest = (a: tf.Tensor) =>
      objective(model.getSubmodule('3').forward(tf.reshape(a, [2, 48])));
    const expected = tf.grad(rest)(captured.activations['1']);
    const expectedActivation = tf.relu(model.getSubmodule('0').forward(x));
    assertAllClose(await grad.gradient.data(), await expected.data(), { rtol: 1e-5, atol: 1e-6 });
    assertAllClose(await grad.activation.data(), await expectedActivation.data());
    assertAllClose(await captured.output.data(), await model.forward(x).data());
    assertAllClose([await grad.value.array()], [await objective(captured.output).array()]);
    expect(captured.activations['2'].shape).toEqual([2, 48]);
    expect(Object.hasOwn(model.getSubmodule('1'), 'forward')).toBe(false);
    tf.dispose([x, upstream, expected, expectedActivation, captured, grad] as tf.TensorContainer);
    model.dispose();
  });
});

it('activations survive a model whose forward runs in its own tf.tidy (zoo models)', async () => {
  await useBackend('cpu');
  const inner = net();
  // A model whose forward is tidied inside, as every zoo model's is.
  const tidied = Object.assign(Object.create(Object.getPrototypeOf(inner)), inner);
  tidied.forward = (x: tf.Tensor) => tf.tidy(() => inner.forward(x));
  const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
  const before = tf.memory().numTensors;
  const { output, activations } = forwardWithActivations(tidied, x, ['1']);
  const expected = tf.tidy(() => tf.relu(inner.getSubmodule('0').forward(x) as tf.Tensor));
  assertAllClose(await activations['1'].data(), await expected.data(), { rtol: 1e-6 });
  const g = activationGradient(tidied, x, '1', (out) => tf.sum(out));
  expect(g.gradient.shape).toEqual([2, 4, 4, 3]);
  // Inside a caller's tidy that keeps only the gradient, nothing else survives.
  const kept = tf.tidy(() => activationGradient(tidied, x, '1', (out) => tf.sum(out)).gradient);
  kept.dispose();
  tf.dispose([output, activations['1'], expected, g.output, g.activation, g.value, g.gradient]);
  expect(tf.memory().numTensors).toBe(before);
  x.dispose();
  inner.dispose();
});

it('an unknown path lists the valid ones', () => {
  const model = net();
  expect(() => model.getSubmodule('4')).toThrow(
    "Sequential: no submodule at path '4'; valid paths: 0, 1, 2, 3, 3.0",
  );
  expect(() => forwardWithActivations(model, tf.zeros([1, 4, 4, 2]), ['3.1'])).toThrow(
    /valid paths: 0, 1, 2, 3, 3\.0/,
  );
  model.dispose();
});
