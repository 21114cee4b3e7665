import * as tf from '@tensorflow/tfjs-core';
import type { SerializedTensor } from '../serialized-tensor';

/** Read a tensor back to the CPU (synchronously) as `{ shape, data }`. */
export function serializeTensor(t: tf.Tensor): SerializedTensor {
  return { shape: t.shape.slice(), data: Array.from(t.dataSync()) };
}

/** A new float32 tensor from `{ shape, data }`. */
export function deserializeTensor(s: SerializedTensor): tf.Tensor {
  return tf.tensor(s.data, s.shape, 'float32');
}

/** The same shape, element for element. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
