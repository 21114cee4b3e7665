import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelFunc } from './kernel-scope';

/**
 * `Slice` on wasm, wrapped: tfjs's copies the whole input out of the wasm heap into a new
 * JavaScript array (`readSync`) before it copies the slice, so taking one element of a
 * 6.4 MB tensor took 24 ms, and each of CIFAR ResNet-20 (A)'s two channel slices 13 ms a
 * step. Here the slice is copied between views of the heap, run by run along the last axis.
 * Strings go to tfjs's kernel.
 */
export function makeSlice(original: KernelFunc): KernelFunc {
  return (args) => {
    const { backend } = args;
    const x = args.inputs.x as Info;
    if (x.dtype === 'string') return original(args);
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [start, extent] = tf.slice_util.parseSliceParams(
      x as tf.TensorInfo as tf.Tensor,
      begin,
      size,
    );
    const out = backend.makeOutput(extent, x.dtype) as Info;
    if (tf.util.sizeFromShape(extent) === 0) return out;
    // Views after makeOutput: an allocation may grow the heap and detach earlier ones.
    const src = backend.typedArrayFromHeap(x as never);
    const dst = backend.typedArrayFromHeap(out as never);
    copySlice(src, dst, x.shape, start, extent);
    return out;
  };
}

/** dst = src[start .. start + extent) of a row-major array of `shape`, run by run. */
function copySlice(
  src: tf.TypedArray,
  dst: tf.TypedArray,
  shape: number[],
  start: number[],
  extent: number[],
): void {
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  const run = rank === 0 ? 1 : extent[rank - 1];
  const runs = tf.util.sizeFromShape(extent) / run;
  const index = new Array(Math.max(0, rank - 1)).fill(0);
  for (let r = 0, to = 0; r < runs; r++, to += run) {
    let from = rank === 0 ? 0 : start[rank - 1];
    for (let d = 0; d < rank - 1; d++) from += (start[d] + index[d]) * strides[d];
    if (run >= 64) {
      dst.set(src.subarray(from, from + run), to);
    } else {
      for (let i = 0; i < run; i++) dst[to + i] = src[from + i];
    }
    // The next run: odometer over every axis but the last.
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < extent[d]) break;
      index[d] = 0;
    }
  }
}
