// Shared by the ONNX tests (not exported): export a model, run it in onnxruntime-node, and
// compare with convkit's own forward in eval mode.
import type { AnyModule } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { type ExportOnnxOptions, exportOnnx } from '../export-onnx';
import { createOnnxSession, type OnnxRuntime } from '../onnx-engine';

export const runtime = ort as unknown as OnnxRuntime;

/**
 * Give every BatchNorm non-trivial running statistics, scale and shift (seeded), so that an
 * export that dropped or misplaced one would show.
 */
export function randomizeBatchNorms(model: AnyModule, seed = 1): void {
  let s = seed;
  const uniform = (shape: number[], low: number, high: number) =>
    tf.randomUniform(shape, low, high, 'float32', s++);
  for (const [key, member] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const v = member.variable;
    const [low, high] = key.endsWith('running_var')
      ? [0.5, 1.5]
      : key.endsWith('running_mean')
        ? [-0.2, 0.2]
        : /(^|\.)bn\d*\.weight$|\.bn\.weight$|^bn1\.weight$/.test(key) ||
            (key.endsWith('.weight') && v.rank === 1)
          ? [0.5, 1.5]
          : key.endsWith('.bias') && v.rank === 1
            ? [-0.2, 0.2]
            : [0, 0];
    if (low === 0 && high === 0) continue;
    tf.tidy(() => v.assign(uniform(v.shape, low, high)));
  }
}

/** A seeded input, convkit layout. */
export function input(shape: number[], seed = 7): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

export interface ParityResult {
  maxAbs: number;
  /** Largest |logit| of convkit's output. */
  scale: number;
  bytes: Uint8Array;
}

/**
 * Export `model` for `shape`, run one input through onnxruntime and through convkit (eval
 * mode), and return the largest absolute difference. Leaves no tensors behind.
 */
export async function onnxParity(
  model: AnyModule,
  shape: number[],
  options: Omit<ExportOnnxOptions, 'inputShape'> = {},
): Promise<ParityResult> {
  const before = tf.memory().numTensors;
  model.eval();
  const bytes = await exportOnnx(model, { inputShape: shape, ...options });
  const engine = await createOnnxSession(bytes, { runtime, threads: 1 });
  const x = input(shape);
  try {
    // Eval mode: every model returns its one output tensor (GoogLeNet drops its aux heads).
    const expected = tf.tidy(() => model.forward(x) as tf.Tensor);
    const actual = await engine.predict(x);
    expect(actual.shape).toEqual(expected.shape);
    const [a, b] = await Promise.all([actual.data(), expected.data()]);
    tf.dispose([actual, expected]);
    let maxAbs = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    if (Number.isNaN(maxAbs) || a.some((v) => Number.isNaN(v))) maxAbs = Number.NaN;
    return { maxAbs, scale, bytes };
  } finally {
    x.dispose();
    await engine.dispose();
    expect(tf.memory().numTensors, 'tensors left by the parity check').toBe(before);
  }
}
