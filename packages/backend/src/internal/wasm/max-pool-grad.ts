import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Info, type KernelScope, withScope } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, type SimdKernels, simdKernels, simdPassRunner } from './simd-kernels';

/**
 * `MaxPoolGrad` on wasm, replacing tfjs-backend-wasm's, which loses the gradient of every
 * window whose values are all negative (it starts its running maximum at 0).
 *
 * Semantics of tfjs-cpu and PyTorch: within each pooling window (clipped to the input, so
 * padding never wins) the FIRST position holding the maximum, in row-major window order,
 * receives that window's dy; overlapping windows accumulate. A window with no value above
 * -Infinity (all -Infinity or NaN) passes no gradient, as on the cpu backend.
 *
 * 2x2 windows with stride 2 (LeNet, VGG, UNet), at least 4 channels: the SIMD kernel of
 * simd-kernels.ts does every full window, 4 channels per step and branch-free (max of the
 * four taps, then the first tap equal to it, masked by max > -Infinity), the images split
 * between the kernel threads; a window holding NaN makes it hand everything back to the scan
 * below. It writes all four taps of its windows, so dx is zeroed first only when they leave a
 * row or column uncovered (odd sizes): LeNet-5's 1.2 MB gradient is written once, not twice.
 * Everything else (other windows, partial windows at a 'same' border, no SIMD) is a JS scan
 * over the wasm heap: per output pixel the clipped tap offsets are listed once, then per
 * channel the first maximum is found (the 2x2 case unrolled) and dy added there.
 */
export function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
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
    const simd =
      fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && c >= 4
        ? simdKernels(backend)
        : undefined;
    let full: [number, number] = [0, 0];
    if (simd) {
      full = [Math.min(oh, Math.floor(h / 2)), Math.min(ow, Math.floor(w / 2))];
      // The SIMD windows write every tap they cover: zeros are needed only past them.
      if (2 * full[0] !== h || 2 * full[1] !== w) scope.zero(dx);
      if (windowsBySimd(scope, simd, [x, dy, dx], [n, h, w, c], [oh, ow], full)) {
        full = [0, 0];
        scope.zero(dx);
      }
    } else {
      scope.zero(dx);
    }
    const xs = scope.f32(x);
    const dys = scope.f32(dy);
    const dxs = scope.f32(dx);
    scanWindows(xs, dys, dxs, [n, h, w, c], [oh, ow], [fh, fw], [sh, sw], [top, left], full);
    return dx;
  });
}

/**
 * The full 2x2 windows by the SIMD `maxPoolGrad2x2`, the images split between the kernel
 * threads, each share with its own NaN flag. Returns whether a window held NaN.
 */
function windowsBySimd(
  scope: KernelScope,
  simd: SimdKernels,
  [x, dy, dx]: Info[],
  [n, h, w, c]: number[],
  [oh, ow]: number[],
  full: [number, number],
): boolean {
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const { run, threads } = simdPassRunner(scope.backend, simd, n * h * w * c);
  const flags = scope.alloc([threads], 'int32', true);
  const shares = splitRange(n, threads).map(([b0, b1], i) => [
    {
      name: 'maxPoolGrad2x2',
      args: [
        ptr(x) + b0 * h * w * c * 4,
        ptr(dy) + b0 * oh * ow * c * 4,
        ptr(dx) + b0 * h * w * c * 4,
        b1 - b0,
        h,
        w,
        c,
        oh,
        ow,
        ...full,
        ptr(flags) + i * 4,
      ],
    },
  ]);
  run(shares);
  return scope.heap(flags).some((flag) => flag !== 0);
}

/**
 * The scalar scan: every window except the [0, full[0]) x [0, full[1]) block already done by
 * the SIMD kernel adds its dy at its first maximum.
 */
function scanWindows(
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  [n, h, w, c]: number[],
  [oh, ow]: number[],
  [fh, fw]: number[],
  [sh, sw]: number[],
  [top, left]: number[],
  full: [number, number],
): void {
  // Flat offsets (in x) of the current window's taps, relative to its batch image.
  const taps = new Int32Array(fh * fw);
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let p = 0; p < oh; p++) {
      const r0 = Math.max(0, p * sh - top);
      const r1 = Math.min(h, p * sh - top + fh);
      for (let q = p < full[0] ? full[1] : 0; q < ow; q++) {
        const c0 = Math.max(0, q * sw - left);
        const c1 = Math.min(w, q * sw - left + fw);
        const dyo = ((b * oh + p) * ow + q) * c;
        if (r1 - r0 === 2 && c1 - c0 === 2) {
          // The common 2x2 window, unrolled (a third faster than the generic scan).
          const o0 = xb + (r0 * w + c0) * c;
          const o1 = o0 + c;
          const o2 = o0 + w * c;
          const o3 = o2 + c;
          for (let k = 0; k < c; k++) {
            let bestValue = Number.NEGATIVE_INFINITY;
            let bestIndex = -1;
            let v = xs[o0 + k];
            if (v > bestValue) {
              bestValue = v;
              bestIndex = o0 + k;
            }
            v = xs[o1 + k];
            if (v > bestValue) {
              bestValue = v;
              bestIndex = o1 + k;
            }
            v = xs[o2 + k];
            if (v > bestValue) {
              bestValue = v;
              bestIndex = o2 + k;
            }
            v = xs[o3 + k];
            if (v > bestValue) bestIndex = o3 + k;
            if (bestIndex >= 0) dxs[bestIndex] += dys[dyo + k];
          }
          continue;
        }
        let count = 0;
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) taps[count++] = xb + (r * w + col) * c;
        }
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
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
