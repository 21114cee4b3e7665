/**
 * The layer conformance harness: vitest tests that check one layer against a PyTorch fixture.
 *
 * A fixture file (written by a Python generator next to the layers, e.g.
 * `packages/layers/fixtures/conv_pool.py`) holds cases keyed by name. Each case has the PyTorch
 * module and its keyword arguments, the convkit options, an input (NHWC for images), a fixed
 * upstream gradient, the state dict in convkit layouts, and per mode (`train`, `eval`) the output,
 * the gradient of `sum(output * upstream)` with respect to the input and to every parameter, and
 * optionally the buffers after that one forward pass (BatchNorm's running statistics).
 *
 * For each case `checkLayerConformance` registers tests for:
 * - output shape equals `outputShape()`;
 * - parameter and buffer keys and shapes equal PyTorch's (after layout conversion);
 * - JSON round trip (`toJSON` -> `fromJSON`: same config, keys and shapes);
 * - state-dict round trip (load the fixture state, read `stateDict()` back equal);
 * - per backend and mode: forward output, input gradient and parameter gradients equal the
 *   fixture, buffers after the pass equal it, and forward + backward leaks no tensor.
 *
 * Tolerance: |received - expected| <= atol * max(1, max|expected|) + rtol * |expected|, per
 * tensor; by default rtol 1e-5 and atol 1e-6 on cpu, rtol 1e-4 and atol 1e-5 on wasm.
 *
 * The harness knows modules only structurally (no dependency on @convkit/layers), so pass the
 * package's `moduleFromJSON` as `fromJSON`.
 */
import { type BackendName, measureLeaks } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { findMismatch, useBackend } from './testing';

/** A tensor as the fixture generators write it: shape and row-major values. */
export interface EncodedTensor {
  shape: number[];
  values: number[];
  /** Default float32. */
  dtype?: 'float32' | 'int32';
}

/** What PyTorch computed in one mode. */
export interface LayerFixtureResult {
  output: EncodedTensor;
  /** Absent when the input is not differentiable. */
  inputGradient?: EncodedTensor;
  /** Gradients of every parameter by state-dict key, in convkit layouts. */
  gradients: Record<string, EncodedTensor>;
  /** Buffers after the one forward pass (e.g. BatchNorm running statistics in train mode). */
  buffers?: Record<string, EncodedTensor>;
}

/** One case of a fixture file. */
export interface LayerFixtureCase {
  /** PyTorch class, e.g. `Conv2d`. */
  module: string;
  /** PyTorch constructor keywords (documentation; the test builds from `options`). */
  kwargs?: Record<string, unknown>;
  /** convkit constructor options. */
  options?: Record<string, unknown>;
  /** convkit class name when it differs from `module` (default: `module`). */
  convkit?: string;
  input: EncodedTensor;
  upstream: EncodedTensor;
  /** The state dict (parameters and persistent buffers) in convkit layouts. */
  state: Record<string, EncodedTensor>;
  train?: LayerFixtureResult;
  eval?: LayerFixtureResult;
}

/** A fixture file: one per layer family. */
export interface LayerFixtureFile {
  torch: string;
  cases: Record<string, LayerFixtureCase>;
}

/** The part of a convkit Module the harness uses. */
export interface ConformanceModule {
  forward(...inputs: tf.Tensor[]): tf.Tensor;
  outputShape(...inputShapes: number[][]): number[];
  stateDict(): Record<string, tf.Tensor>;
  loadStateDict(state: Record<string, tf.Tensor>, options?: { strict?: boolean }): unknown;
  namedParameters(): [string, { variable: tf.Variable }][];
  toJSON(): { type: string; config: Record<string, unknown>; children?: unknown[] };
  train(mode?: boolean): unknown;
  eval(): unknown;
  dispose(): void;
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const LAYER_TOLERANCE: Record<string, Tolerance> = {
  cpu: { rtol: 1e-5, atol: 1e-6 },
  wasm: { rtol: 1e-4, atol: 1e-5 },
  webgpu: { rtol: 1e-3, atol: 1e-4 },
};

export interface LayerConformanceSpec<M extends ConformanceModule = ConformanceModule> {
  /** The describe() title, usually the case name. */
  name: string;
  fixture: LayerFixtureCase;
  /** A fresh module with the case's configuration (its parameters are then loaded). */
  build: (fixture: LayerFixtureCase) => M;
  /** The package's `moduleFromJSON`. */
  fromJSON: (json: ReturnType<M['toJSON']>) => ConformanceModule;
  /** Default ['cpu', 'wasm']. */
  backends?: BackendName[];
  /** Per-backend overrides of `LAYER_TOLERANCE`. */
  tolerance?: Partial<Record<BackendName, Partial<Tolerance>>>;
  /** Modes to check; default: those present in the fixture. */
  modes?: ('train' | 'eval')[];
}

/** A tensor from its encoding (the caller owns it). */
export function decodeTensor(e: EncodedTensor): tf.Tensor {
  return tf.tensor(e.values, e.shape, e.dtype ?? 'float32');
}

/** Decode a state dict (the caller owns the tensors). */
export function decodeState(state: Record<string, EncodedTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, decodeTensor(v)]));
}

/** Throw with `label` unless `actual` is close to `expected` (shape and values). */
export function expectCloseTo(
  actual: { shape: number[]; values: ArrayLike<number> },
  expected: EncodedTensor,
  { rtol, atol }: Tolerance,
  label: string,
): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  let scale = 1;
  for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
  const mismatch = findMismatch(actual.values, expected.values, { rtol, atol: atol * scale });
  if (mismatch) throw new Error(`${label}: ${mismatch} (atol scaled by ${scale})`);
}

const shapesOf = (state: Record<string, { shape: number[] }>) =>
  Object.entries(state).map(([k, t]) => [k, t.shape]);

/** Register the conformance tests of one fixture case. */
export function checkLayerConformance<M extends ConformanceModule>(
  spec: LayerConformanceSpec<M>,
): void {
  const { fixture: c, build, name } = spec;
  const backends = spec.backends ?? ['cpu', 'wasm'];
  const modes = spec.modes ?? (['train', 'eval'] as const).filter((m) => c[m] !== undefined);

  describe(name, () => {
    it('output shape equals outputShape() and PyTorch', async () => {
      await useBackend('cpu');
      const module = build(c);
      try {
        const expected = (c.train ?? c.eval)?.output.shape;
        const x = decodeTensor(c.input);
        const y = tf.tidy(() => module.forward(x));
        expect(module.outputShape(c.input.shape)).toEqual(y.shape);
        expect(y.shape).toEqual(expected);
        tf.dispose([x, y]);
      } finally {
        module.dispose();
      }
    });

    it('parameter and buffer keys and shapes equal PyTorch (convkit layouts)', async () => {
      await useBackend('cpu');
      const module = build(c);
      expect(shapesOf(module.stateDict())).toEqual(shapesOf(c.state));
      const grads = (c.train ?? c.eval)?.gradients ?? {};
      expect(module.namedParameters().map(([k]) => k)).toEqual(Object.keys(grads));
      module.dispose();
    });

    it('round-trips through JSON and through the state dict', async () => {
      await useBackend('cpu');
      const module = build(c);
      const json = JSON.parse(JSON.stringify(module.toJSON()));
      const rebuilt = spec.fromJSON(json);
      expect(rebuilt.toJSON()).toEqual(module.toJSON());
      expect(shapesOf(rebuilt.stateDict())).toEqual(shapesOf(module.stateDict()));
      const state = decodeState(c.state);
      rebuilt.loadStateDict(state);
      tf.dispose(Object.values(state));
      for (const [key, t] of Object.entries(rebuilt.stateDict())) {
        expect(Array.from(await t.data()), key).toEqual(
          Array.from(new Float32Array(c.state[key].values)),
        );
      }
      module.dispose();
      rebuilt.dispose();
    });

    for (const backend of backends) {
      const tolerance = { ...LAYER_TOLERANCE[backend], ...spec.tolerance?.[backend] };
      for (const mode of modes) {
        it(`forward and gradients equal PyTorch, no leaks (${backend}, ${mode})`, async () => {
          await useBackend(backend);
          const expected = c[mode] as LayerFixtureResult;
          const module = build(c);
          const state = decodeState(c.state);
          module.loadStateDict(state);
          tf.dispose(Object.values(state));
          if (mode === 'train') module.train();
          else module.eval();
          const x = decodeTensor(c.input);
          const upstream = decodeTensor(c.upstream);
          const differentiable = expected.inputGradient !== undefined;
          const { result, leakedTensors } = await measureLeaks(() => {
            const input = differentiable ? tf.variable(x, true) : x;
            const params = module.namedParameters();
            let output: tf.Tensor | undefined;
            const { value, grads } = tf.variableGrads(() => {
              output = tf.keep(module.forward(input));
              return tf.sum(tf.mul(output, upstream)) as tf.Scalar;
            }, [
              ...(differentiable ? [input as tf.Variable] : []),
              ...params.map(([, p]) => p.variable),
            ]);
            const inputGradient = differentiable ? grads[(input as tf.Variable).name] : undefined;
            const byKey = Object.fromEntries(params.map(([k, p]) => [k, grads[p.variable.name]]));
            value.dispose();
            if (differentiable) input.dispose();
            return { output: output as tf.Tensor, inputGradient, grads: byKey };
          });
          const read = async (t: tf.Tensor) => ({ shape: t.shape, values: await t.data() });
          try {
            expect(leakedTensors, 'tensors leaked by forward + backward').toBe(0);
            expectCloseTo(await read(result.output), expected.output, tolerance, 'output');
            if (expected.inputGradient && result.inputGradient) {
              expectCloseTo(
                await read(result.inputGradient),
                expected.inputGradient,
                tolerance,
                'input gradient',
              );
            }
            expect(Object.keys(result.grads)).toEqual(Object.keys(expected.gradients));
            for (const [key, grad] of Object.entries(result.grads)) {
              expectCloseTo(
                await read(grad),
                expected.gradients[key],
                tolerance,
                `gradient of ${key}`,
              );
            }
            const live = module.stateDict();
            for (const [key, buffer] of Object.entries(expected.buffers ?? {})) {
              expectCloseTo(
                await read(live[key]),
                buffer,
                tolerance,
                `buffer ${key} after forward`,
              );
            }
          } finally {
            tf.dispose([
              x,
              upstream,
              result.output,
              ...(result.inputGradient ? [result.inputGradient] : []),
              ...Object.values(result.grads),
            ]);
            module.dispose();
          }
        });
      }
    }
  });
}

/**
 * Register `checkLayerConformance` for every case of a fixture file; `build` makes the module of
 * a case (typically `new LAYER_TYPES[c.convkit ?? c.module](c.options)`).
 */
export function checkLayerFixtures<M extends ConformanceModule>(
  file: LayerFixtureFile,
  spec: Omit<LayerConformanceSpec<M>, 'name' | 'fixture'> & {
    /** Only the cases whose name passes. */
    filter?: (name: string, fixture: LayerFixtureCase) => boolean;
  },
): void {
  for (const [name, fixture] of Object.entries(file.cases)) {
    if (spec.filter && !spec.filter(name, fixture)) continue;
    checkLayerConformance({ ...spec, name, fixture });
  }
}
