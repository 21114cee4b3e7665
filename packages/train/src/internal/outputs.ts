import * as tf from '@tensorflow/tfjs-core';
import type { ModelOutput } from '../types';

/** The main output and the auxiliary outputs of a forward pass. */
export function splitOutput(
  output: ModelOutput,
  where: string,
): { main: tf.Tensor; aux: tf.Tensor[] } {
  if (output instanceof tf.Tensor) return { main: output, aux: [] };
  if (Array.isArray(output) && output.length > 0 && output.every((t) => t instanceof tf.Tensor)) {
    return { main: output[0], aux: output.slice(1) };
  }
  if (
    output != null &&
    typeof output === 'object' &&
    (output as { logits?: unknown }).logits instanceof tf.Tensor
  ) {
    const { logits, aux = [] } = output as { logits: tf.Tensor; aux?: tf.Tensor[] };
    return { main: logits, aux };
  }
  throw new Error(
    `${where}: expected the model's forward to return a tensor, [logits, ...aux] or { logits, aux }, received ${describe(output)}`,
  );
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return typeof v;
}
