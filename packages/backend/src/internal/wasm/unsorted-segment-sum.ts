import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Info, withScope } from './kernel-scope';

/**
 * `UnsortedSegmentSum` on wasm (tfjs-backend-wasm has none; `tf.gather`'s gradient needs it).
 *
 *   out[i, ...] = sum over every j with segmentIds[j] == i of x[j, ...]
 *
 * where segmentIds' shape is a prefix of x's. Ids may come in any order and repeat;
 * segments no id names are zero; ids outside [0, numSegments) are dropped (TensorFlow's
 * rule). One pass over x on the wasm heap, rows accumulated in float64 for float32 x and
 * stored in x's dtype.
 */
export function unsortedSegmentSum(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  return withScope(backend, (scope) => {
    const x = inputs.x as Info;
    const ids = inputs.segmentIds as Info;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new Error(`UnsortedSegmentSum on wasm: x must be float32 or int32, got ${x.dtype}`);
    }
    const idRank = ids.shape.length;
    for (let i = 0; i < idRank; i++) {
      if (ids.shape[i] !== x.shape[i]) {
        throw new Error(
          `UnsortedSegmentSum: segmentIds shape [${ids.shape}] must be a prefix of x shape [${x.shape}]`,
        );
      }
    }
    const innerShape = x.shape.slice(idRank);
    const inner = tf.util.sizeFromShape(innerShape);
    const numIds = tf.util.sizeFromShape(ids.shape);
    const out = scope.alloc([numSegments, ...innerShape], x.dtype);
    const acc = new Float64Array(numSegments * inner);
    const xs = scope.heap(x);
    const idv = scope.heap(ids);
    for (let j = 0; j < numIds; j++) {
      const id = idv[j];
      if (!(id >= 0 && id < numSegments)) continue;
      const src = j * inner;
      const dst = id * inner;
      for (let k = 0; k < inner; k++) acc[dst + k] += xs[src + k];
    }
    scope.heap(out).set(acc);
    return out;
  });
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
