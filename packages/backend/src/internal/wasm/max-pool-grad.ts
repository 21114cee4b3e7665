import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type Info, withScope } from './kernel-scope';

/**
 * `MaxPoolGrad` on wasm, replacing tfjs-backend-wasm's, which loses the gradient of every
 * window whose values are all negative (it starts its running maximum at 0).
 *
 * Semantics of tfjs-cpu and PyTorch: within each pooling window (clipped to the input, so
 * padding never wins) the FIRST position holding the maximum, in row-major window order,
 * receives that window's dy; overlapping windows accumulate. A window with no value above
 * -Infinity (all -Infinity or NaN) passes no gradient, as on the cpu backend.
 *
 * A JS loop over the wasm heap (NHWC): per output pixel the window's clipped tap offsets are
 * listed once, then per channel a scalar scan keeps the best value and its flat index and
 * adds dy there. One read of x per window tap, no allocation besides dx.
 */
export function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): Info {
  const { inputs, backend, attrs } = args;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | number[][];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  return withScope(backend, (scope) => {
    const x = inputs.input as Info;
    const dy = inputs.dy as Info;
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad as any,
      dimRoundingMode,
    );
    const [n, h, w, c] = x.shape;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { filterHeight: fh, filterWidth: fw } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const dx = scope.alloc(x.shape, 'float32');
    const xs = scope.f32(x);
    const dys = scope.f32(dy);
    const dxs = scope.f32(dx);
    dxs.fill(0);
    // Flat offsets (in x) of the current window's taps, relative to its batch image.
    const taps = new Int32Array(fh * fw);
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let p = 0; p < oh; p++) {
        const r0 = Math.max(0, p * sh - top);
        const r1 = Math.min(h, p * sh - top + fh);
        for (let q = 0; q < ow; q++) {
          const c0 = Math.max(0, q * sw - left);
          const c1 = Math.min(w, q * sw - left + fw);
          let count = 0;
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) taps[count++] = xb + (r * w + col) * c;
          }
          const dyo = ((b * oh + p) * ow + q) * c;
          for (let k = 0; k < c; k++) {
            let bestValue = Number.NEGATIVE_INFINITY;
            let bestIndex = -1;
            for (let t = 0; t < count; t++) {
              const i = taps[t] + k;
              const v = xs[i];
              if (v > bestValue) {
                bestValue = v;
                bestIndex = i;
              }
            }
            if (bestIndex >= 0) dxs[bestIndex] += dys[dyo + k];
          }
        }
      }
    }
    return dx;
  });
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
