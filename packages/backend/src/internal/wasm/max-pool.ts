import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelFunc } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, simdKernels, simdPassRunner } from './simd-kernels';

/**
 * `MaxPool` on wasm, wrapped: 2x2 windows at stride 2 with no padding and at least 4 channels
 * (LeNet-5's, VGG's, UNet's) run as convkit's SIMD `maxPool2x2`, split by output rows between
 * the kernel threads; everything else goes to tfjs's kernel (XNNPACK's, which keeps one thread
 * once convkit's workers run). A window holding NaN gives NaN, as PyTorch's max pooling.
 */
export function makeMaxPool(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as Info;
    const simd = simdKernels(backend);
    const info = simd && x.dtype === 'float32' ? poolInfo(x, args.attrs) : undefined;
    if (!simd || !info) return original(args);
    const [n, h, w, c] = x.shape;
    const { outHeight: oh, outWidth: ow } = info;
    const y = backend.makeOutput([n, oh, ow, c], 'float32') as Info;
    if (n * oh * ow === 0) return y;
    const ptr = (t: Info) => heapOffset(backend, t.dataId);
    const { run, threads } = simdPassRunner(backend, simd, n * h * w * c);
    const args_ = [ptr(x), ptr(y), h, w, c, oh, ow];
    run(
      splitRange(n * oh, threads).map(([r0, r1]) => [
        { name: 'maxPool2x2', args: [...args_, r0, r1] },
      ]),
    );
    return y;
  };
}

/** The pooling's geometry when the SIMD kernel takes it (see makeMaxPool), else undefined. */
function poolInfo(
  x: Info,
  attrs: tf.NamedAttrMap | undefined,
): tf.backend_util.Conv2DInfo | undefined {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const shape = x.shape as [number, number, number, number];
  if (shape.length !== 4 || shape[3] < 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    shape,
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const unpadded = top === 0 && bottom === 0 && left === 0 && right === 0;
  const twoByTwo = info.filterHeight === 2 && info.filterWidth === 2;
  const strideTwo = info.strideHeight === 2 && info.strideWidth === 2;
  // Every window inside the input (a rounding mode can add a partial one at the edge).
  const full =
    info.outHeight <= Math.floor(shape[1] / 2) && info.outWidth <= Math.floor(shape[2] / 2);
  return unpadded && twoByTwo && strideTwo && full ? info : undefined;
}
