import type * as tf from '@tensorflow/tfjs-core';

/** What `@convkit/optimizers` optimizers expose of their per-parameter state. */
interface InspectableOptimizer {
  variables(): tf.Variable[];
  stateFor(param: tf.Variable): { tensors: Record<string, tf.Tensor> } | undefined;
}

function isInspectable(optimizer: unknown): optimizer is InspectableOptimizer {
  const o = optimizer as Partial<InspectableOptimizer> | null;
  return typeof o?.variables === 'function' && typeof o?.stateFor === 'function';
}

/**
 * Read the optimizer's state tensors back asynchronously, so that its synchronous `stateDict()`
 * finds their values already on the CPU. On WebGPU in Node a synchronous read of a GPU tensor
 * needs `OffscreenCanvas`, which Node lacks; an asynchronous read caches the values instead.
 */
export async function readBackOptimizerState(optimizer: unknown): Promise<void> {
  if (!isInspectable(optimizer)) return;
  const reads: Promise<unknown>[] = [];
  for (const v of optimizer.variables()) {
    for (const t of Object.values(optimizer.stateFor(v)?.tensors ?? {})) reads.push(t.data());
  }
  await Promise.all(reads);
}
