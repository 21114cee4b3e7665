import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type ConvAttrs, type Info, nhwcConvInfo, withScope } from './kernel-scope';
import { heapOffset, simdKernels } from './simd-kernels';

/**
 * `DepthwiseConv2dNativeBackpropFilter` on wasm (tfjs-backend-wasm has none).
 *
 *   dW[kh, kw, c, m] = sum_{n, p, q} xpad[n, p*s + kh*d, q*s + kw*d, c] * dy[n, p, q, c*M + m]
 *
 * With channel multiplier 1 (MobileNets) and SIMD available: simd-kernels.ts's
 * `depthwiseFilterGrad`, which for every output pixel and tap multiplies the contiguous
 * channel vectors of x and dy and accumulates into dW, 4 channels per step, in float32 (as
 * every XNNPACK convolution does). Otherwise a JS loop over the wasm heap (no copies of x or
 * dy), innermost over the contiguous C*M channels, with a float64 accumulator per filter
 * entry (as exact as the cpu backend). Expressing it through XNNPACK would need the whole
 * Ci x Co cross product of a regular convolution, C times the work.
 */
export function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const convAttrs = attrs as unknown as ConvAttrs & {
    filterShape: [number, number, number, number];
  };
  const { filterShape } = convAttrs;
  return withScope(backend, (scope) => {
    const x = inputs.x as Info;
    const dy = inputs.dy as Info;
    const info = nhwcConvInfo(
      x.shape as [number, number, number, number],
      filterShape,
      convAttrs,
      true,
    );
    const [kh, kw, c, m] = filterShape;
    const [n, h, w] = x.shape;
    const { strideHeight: sh, strideWidth: sw } = info;
    const [, oh, ow] = dy.shape; // dy's own extent, as in conv2d-backprop-filter.ts
    const { dilationHeight: dh, dilationWidth: dw } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const cm = c * m;
    if (dy.shape[3] !== cm) {
      throw new Error(
        `DepthwiseConv2dNativeBackpropFilter: dy has shape [${dy.shape}], expected [${n}, ${oh}, ${ow}, ${cm}]`,
      );
    }
    const simd = m === 1 ? simdKernels(backend) : undefined;
    if (simd) {
      const out = scope.alloc([kh, kw, c, m], 'float32', true);
      const ptr = (t: Info) => heapOffset(backend, t.dataId);
      simd.depthwiseFilterGrad(
        ptr(x),
        ptr(dy),
        ptr(out),
        n,
        h,
        w,
        c,
        oh,
        ow,
        kh,
        kw,
        sh,
        sw,
        dh,
        dw,
        top,
        left,
      );
      return out;
    }
    const acc = new Float64Array(kh * kw * cm);
    const out = scope.alloc([kh, kw, c, m]);
    const xs = scope.f32(x);
    const dys = scope.f32(dy);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < oh; p++) {
        for (let q = 0; q < ow; q++) {
          const dyo = ((b * oh + p) * ow + q) * cm;
          for (let a = 0; a < kh; a++) {
            const row = p * sh + a * dh - top;
            if (row < 0 || row >= h) continue;
            for (let e = 0; e < kw; e++) {
              const col = q * sw + e * dw - left;
              if (col < 0 || col >= w) continue;
              const xo = ((b * h + row) * w + col) * c;
              const wo = (a * kw + e) * cm;
              if (m === 1) {
                for (let k = 0; k < c; k++) acc[wo + k] += xs[xo + k] * dys[dyo + k];
              } else {
                for (let k = 0; k < c; k++) {
                  const xv = xs[xo + k];
                  const base = k * m;
                  for (let j = 0; j < m; j++) acc[wo + base + j] += xv * dys[dyo + base + j];
                }
              }
            }
          }
        }
      }
    }
    scope.f32(out).set(acc);
    return out;
  });
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc,
};
