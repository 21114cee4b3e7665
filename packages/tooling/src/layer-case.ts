/**
 * The vitest-free core of the layer conformance harness: fixture types, decoding, running one
 * case (forward and backward of `sum(output * upstream)`) on the active backend, and comparing
 * the result with PyTorch's. `layer-conformance.ts` turns it into vitest tests; the browser
 * suites run it on webgpu.
 */
import { measureLeaks } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { findMismatch } from './testing';

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

/** A tensor from its encoding (the caller owns it). */
export function decodeTensor(e: EncodedTensor): tf.Tensor {
  return tf.tensor(e.values, e.shape, e.dtype ?? 'float32');
}

/** Decode a state dict (the caller owns the tensors). */
export function decodeState(state: Record<string, EncodedTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, decodeTensor(v)]));
}

/** Why `actual` is not close to `expected` (shape or values), or null when it is. */
export function mismatchWith(
  actual: { shape: number[]; values: ArrayLike<number> },
  expected: EncodedTensor,
  { rtol, atol }: Tolerance,
): string | null {
  if (!tf.util.arraysEqual(actual.shape, expected.shape)) {
    return `shape [${actual.shape}] differs from expected [${expected.shape}]`;
  }
  let scale = 1;
  for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
  const mismatch = findMismatch(actual.values, expected.values, { rtol, atol: atol * scale });
  return mismatch && `${mismatch} (atol scaled by ${scale})`;
}

/** One mode of one case as convkit computed it on the active backend, read back. */
export interface LayerCaseRun {
  output: ReadTensor;
  inputGradient?: ReadTensor;
  gradients: Record<string, ReadTensor>;
  /** The module's state after the pass, for the buffers the fixture records. */
  buffers: Record<string, ReadTensor>;
  leakedTensors: number;
}

export interface ReadTensor {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/**
 * Load the fixture's state into `module`, set `mode`, run forward and the gradients of
 * `sum(output * upstream)` with respect to the input (when PyTorch has one) and every parameter,
 * read everything back, and dispose it (the module too).
 */
export async function runLayerCase(
  module: ConformanceModule,
  c: LayerFixtureCase,
  mode: 'train' | 'eval',
): Promise<LayerCaseRun> {
  const expected = c[mode] as LayerFixtureResult;
  const read = async (t: tf.Tensor): Promise<ReadTensor> => ({
    shape: t.shape,
    values: await t.data(),
  });
  const state = decodeState(c.state);
  const x = decodeTensor(c.input);
  const upstream = decodeTensor(c.upstream);
  try {
    module.loadStateDict(state);
    if (mode === 'train') module.train();
    else module.eval();
    const differentiable = expected.inputGradient !== undefined;
    const { result, leakedTensors } = await measureLeaks(() => {
      const input = differentiable ? tf.variable(x, true) : x;
      const params = module.namedParameters();
      let output: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        output = tf.keep(module.forward(input));
        return tf.sum(tf.mul(output, upstream)) as tf.Scalar;
      }, [...(differentiable ? [input as tf.Variable] : []), ...params.map(([, p]) => p.variable)]);
      const inputGradient = differentiable ? grads[(input as tf.Variable).name] : undefined;
      const byKey = Object.fromEntries(params.map(([k, p]) => [k, grads[p.variable.name]]));
      value.dispose();
      if (differentiable) input.dispose();
      return { output: output as tf.Tensor, inputGradient, grads: byKey };
    });
    try {
      const live = module.stateDict();
      const buffers: Record<string, ReadTensor> = {};
      for (const key of Object.keys(expected.buffers ?? {})) buffers[key] = await read(live[key]);
      const gradients: Record<string, ReadTensor> = {};
      for (const [key, g] of Object.entries(result.grads)) gradients[key] = await read(g);
      return {
        output: await read(result.output),
        inputGradient: result.inputGradient && (await read(result.inputGradient)),
        gradients,
        buffers,
        leakedTensors,
      };
    } finally {
      tf.dispose([
        result.output,
        ...(result.inputGradient ? [result.inputGradient] : []),
        ...Object.values(result.grads),
      ]);
    }
  } finally {
    tf.dispose([x, upstream, ...Object.values(state)]);
    module.dispose();
  }
}

/** Every way `run` differs from PyTorch's `expected` (empty when it matches). */
export function compareLayerCase(
  run: LayerCaseRun,
  expected: LayerFixtureResult,
  tolerance: Tolerance,
): string[] {
  const problems: string[] = [];
  const check = (label: string, actual: ReadTensor | undefined, want: EncodedTensor) => {
    const mismatch = actual ? mismatchWith(actual, want, tolerance) : 'missing';
    if (mismatch) problems.push(`${label}: ${mismatch}`);
  };
  if (run.leakedTensors !== 0)
    problems.push(`forward + backward leaked ${run.leakedTensors} tensor(s)`);
  check('output', run.output, expected.output);
  if (expected.inputGradient) check('input gradient', run.inputGradient, expected.inputGradient);
  const keys = Object.keys(run.gradients).join(', ');
  const wanted = Object.keys(expected.gradients).join(', ');
  if (keys !== wanted)
    problems.push(`parameter gradients [${keys}] differ from PyTorch's [${wanted}]`);
  for (const [key, want] of Object.entries(expected.gradients)) {
    check(`gradient of ${key}`, run.gradients[key], want);
  }
  for (const [key, want] of Object.entries(expected.buffers ?? {})) {
    check(`buffer ${key} after forward`, run.buffers[key], want);
  }
  return problems;
}
