// Shared by the zoo tests (not exported): the oracle fixture and the PyTorch parity check.
import type { AnyModule } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { AnyZooModel } from '../zoo-model';
import { layoutsOf, loadPyTorchStateDict } from '../pytorch-weights';
import fixtureJson from './zoo.json';

export interface ParityCase {
  model: string;
  input: [number, number, number, number];
  numClasses: number;
  gain: number;
  backend: 'cpu' | 'wasm';
  outputShape: number[];
  logits: number[];
}

export const fixture = fixtureJson as unknown as {
  models: Record<string, { params: number; keys: [string, number[]][]; minInputSize: number }>;
  parity: Record<string, ParityCase>;
  samples: { model: string; key: string; index: number; value: number; gain: number }[];
};

/** Let vitest's worker answer its runner between long synchronous steps. */
export const yieldToRunner = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The PyTorch shape of a convkit parameter of `layout` and convkit `shape`. */
export function pytorchShape(layout: string, shape: number[]): number[] {
  switch (layout) {
    case 'HWIO': // [kh, kw, I, O] -> [O, I, kh, kw]
    case 'HWOI': // [kh, kw, out, in] -> [in, out, kh, kw]
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'HWCM': // [kh, kw, C, M] -> [C * M, 1, kh, kw]
      return [shape[2] * shape[3], 1, shape[0], shape[1]];
    case 'IO':
      return [shape[1], shape[0]];
    default:
      return [...shape];
  }
}

/** Every state-dict entry of `model` with its PyTorch shape, in state-dict order. */
export function pytorchKeys(model: AnyModule): [string, number[]][] {
  const layouts = layoutsOf(model);
  return Object.entries(model.stateDict()).map(([key, t]) => {
    const spec = layouts[key];
    const layout = typeof spec === 'string' ? spec : spec.layout;
    return [key, pytorchShape(layout, t.shape)];
  });
}

export function parameterCount(model: AnyModule): number {
  return model.namedParameters().reduce((sum, [, p]) => sum + p.variable.size, 0);
}

/** Parameter count and state-dict keys / PyTorch shapes equal the fixture's (order included). */
export function expectTorchvisionStructure(model: AnyModule, name: string): void {
  const expected = fixture.models[name];
  expect(parameterCount(model), `${name} parameter count`).toBe(expected.params);
  expect(pytorchKeys(model), `${name} keys and shapes`).toEqual(expected.keys);
}

/**
 * The fixture's fill formula (generate.py): float64 then float32, for the k-th state-dict
 * entry `key` with PyTorch shape `shape`; t = sin(0.37 * (i mod 997) + k) at flat index i.
 */
export function formulaValues(key: string, k: number, shape: number[], gain: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const isVar = key.endsWith('running_var');
  const isShift = key.endsWith('running_mean') || key.endsWith('bias');
  const isScale = !isVar && !isShift && shape.length === 1;
  const scale = isVar || isShift || isScale ? 0 : gain / Math.sqrt(n / shape[0]);
  const period = new Float32Array(Math.min(n, 997));
  for (let j = 0; j < period.length; j++) {
    const t = Math.sin(0.37 * j + k);
    period[j] = isVar ? 1 + 0.5 * t * t : isShift ? 0.1 * t : isScale ? 1 + 0.25 * t : scale * t;
  }
  for (let start = 0; start < n; start += period.length) {
    out.set(start + period.length <= n ? period : period.subarray(0, n - start), start);
  }
  return out;
}

/** The fixture's input, NCHW formula, returned NHWC. */
export function formulaInput([n, c, h, w]: number[]): tf.Tensor4D {
  const values = new Float32Array(n * c * h * w);
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(0.11 * i + 0.5);
  return tf.tidy(() => tf.transpose(tf.tensor4d(values, [n, c, h, w]), [0, 2, 3, 1]));
}

/**
 * Fill `model` through the PyTorch path (formula values in PyTorch layout, converted by
 * `loadPyTorchStateDict`), run the fixture input in eval mode, and return the max-abs
 * difference from PyTorch's logits.
 */
export async function parity(model: AnyZooModel, name: string): Promise<number> {
  const c = fixture.parity[name];
  await useBackend(c.backend);
  model.eval();
  const state: Record<string, tf.Tensor> = {};
  for (const [k, [key, shape]] of pytorchKeys(model).entries()) {
    state[key] = key.endsWith('num_batches_tracked')
      ? tf.scalar(0, 'int32')
      : tf.tensor(formulaValues(key, k, shape, c.gain), shape);
    if (k % 16 === 0) await yieldToRunner();
  }
  try {
    loadPyTorchStateDict(model, state);
  } finally {
    tf.dispose(Object.values(state));
  }
  await yieldToRunner();
  const x = formulaInput(c.input);
  const y = tf.tidy(() => model.forward(x) as tf.Tensor); // eval mode: the logits
  expect(y.shape).toEqual(c.outputShape);
  const values = await y.data();
  tf.dispose([x, y]);
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(values[i] - c.logits[i]));
  }
  return maxAbs;
}

/** Build with the parity case's classes, check the logits against PyTorch, free the model. */
export async function expectParity(
  name: string,
  build: (options: { numClasses: number; initWeights: boolean }) => AnyZooModel,
  tolerance = 1e-4,
): Promise<number> {
  const c = fixture.parity[name];
  await useBackend(c.backend);
  const model = build({ numClasses: c.numClasses, initWeights: false });
  try {
    const maxAbs = await parity(model, name);
    console.log(`parity ${name} (${c.backend}, input [${c.input}]): max-abs ${maxAbs.toExponential(2)}`);
    expect(maxAbs, `${name} max-abs difference from PyTorch`).toBeLessThan(tolerance);
    return maxAbs;
  } finally {
    model.dispose();
  }
}

/**
 * Metadata checks: the minimum input size equals the smallest one PyTorch accepts (fixture),
 * a smaller input is refused naming it, `firstConv` / `classifier` name real layers, and every
 * `featureInfo` entry's module outputs its channels at about its reduction.
 */
export async function expectMetadata(model: AnyZooModel, name: string, side = 128): Promise<void> {
  const { info } = model;
  const min = fixture.models[name].minInputSize;
  expect(model.minInputSize, `${name} minimum input size`).toBe(min);
  const c = info.inputSize[2];
  if (min > 1) {
    expect(() => model.forward(tf.zeros([1, min - 1, min - 1, c]))).toThrow(
      `needs at least ${min}x${min}`,
    );
  }
  expect(() => model.outputShape([1, min, min, c])).not.toThrow();
  const state = model.stateDict();
  expect(state[`${info.firstConv}.weight`]?.shape[2], `${name} firstConv`).toBe(c);
  const classifier = state[`${info.classifier}.weight`];
  expect(classifier, `${name} classifier`).toBeDefined();
  let accepted = true;
  try {
    model.outputShape([1, side, side, c]);
  } catch {
    accepted = false; // LeNet-5 takes 28 to 31 pixels only
  }
  if (!accepted) side = min;
  expect(classifier.shape.at(-1)).toBe(model.outputShape([1, side, side, c]).at(-1));

  // featureInfo: hook the named modules and run one small forward.
  const modules = new Map(model.namedModules());
  const seen = new Map<string, number[]>();
  const restore: (() => void)[] = [];
  for (const f of info.featureInfo) {
    const m = modules.get(f.module);
    expect(m, `${name} featureInfo module ${f.module}`).toBeDefined();
    if (!m) continue;
    const original = m.forward;
    m.forward = (...inputs: tf.Tensor[]) => {
      const out = original.apply(m, inputs);
      seen.set(f.module, (out as tf.Tensor).shape);
      return out;
    };
    restore.push(() => delete (m as { forward?: unknown }).forward);
  }
  model.eval();
  try {
    tf.tidy(() => model.forward(tf.zeros([1, side, side, c])) as tf.Tensor);
  } finally {
    for (const r of restore) r();
  }
  for (const f of info.featureInfo) {
    const shape = seen.get(f.module);
    expect(shape?.[3], `${name} ${f.module} channels`).toBe(f.channels);
    // Size side / reduction, give or take the pixels lost to unpadded kernels.
    const distance = Math.abs((shape?.[1] ?? 0) - side / f.reduction);
    expect(distance, `${name} ${f.module} reduction ${f.reduction}`).toBeLessThanOrEqual(2.5);
  }
}

/** A model factory of the zoo, as the family tests call it. */
export type ZooBuilder = (options: {
  numClasses?: number;
  initWeights?: boolean;
}) => AnyZooModel;

/**
 * The tests every family shares, per model: parameter count, keys and shapes equal PyTorch's
 * and the metadata holds (`metadataSide`: the input side for the metadata forward); and, where
 * the fixture has a parity case, the logits equal PyTorch's.
 */
export function checkFamily(
  family: Record<string, ZooBuilder>,
  { metadataSide }: { metadataSide?: number } = {},
): void {
  for (const [name, build] of Object.entries(family)) {
    it(`${name}: parameter count, keys and shapes equal PyTorch's; metadata`, async () => {
      const model = build({ initWeights: false });
      try {
        expectTorchvisionStructure(model, name);
        await expectMetadata(model, name, metadataSide);
      } finally {
        model.dispose();
      }
    });
    if (fixture.parity[name]) {
      it(`${name}: logits equal PyTorch's`, async () => {
        await expectParity(name, build as Parameters<typeof expectParity>[1]);
      });
    }
  }
}
