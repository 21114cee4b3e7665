import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-core's engine state that records a gradient tape. */
interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * Free the tensors a gradient tape saved for the backward pass when `tf.variableGrads` /
 * `tf.grads` throws (in the forward, the loss or the backward pass). tfjs-core keeps those
 * tensors (`keep`), so no `tf.tidy` frees them, and it drops the tape only when a backward pass
 * completes: after an error they would leak. Call it in the catch around the outermost gradient
 * computation; it does nothing while an enclosing gradient computation is still running.
 */
export function releaseTapeAfterError(): void {
  const state = tf.engine().state as unknown as TapeState;
  if (state.gradientDepth !== 0 || !Array.isArray(state.activeTape)) return;
  for (const node of state.activeTape) {
    for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
  }
  state.activeTape = null;
}
