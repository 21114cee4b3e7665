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
import type { BackendName } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceModule,
  compareLayerCase,
  decodeState,
  decodeTensor,
  type EncodedTensor,
  LAYER_TOLERANCE,
  type LayerFixtureCase,
  type LayerFixtureFile,
  type LayerFixtureResult,
  mismatchWith,
  runLayerCase,
  type Tolerance,
} from './layer-case';
import { useBackend } from './testing';

export * from './layer-case';

/** Throw with `label` unless `actual` is close to `expected` (shape and values). */
export function expectCloseTo(
  actual: { shape: number[]; values: ArrayLike<number> },
  expected: EncodedTensor,
  tolerance: Tolerance,
  label: string,
): void {
  const mismatch = mismatchWith(actual, expected, tolerance);
  if (mismatch) throw new Error(`${label}: ${mismatch}`);
}

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
          const run = await runLayerCase(build(c), c, mode);
          const problems = compareLayerCase(run, c[mode] as LayerFixtureResult, tolerance);
          expect(problems, problems.join('\n')).toEqual([]);
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
