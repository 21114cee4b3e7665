import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { blocksOf8 } from './conv2d';
import {
  type ConvAttrs,
  type Info,
  type KernelScope,
  NCHW_TO_NHWC,
  NHWC_TO_NCHW,
  nhwcConvInfo,
  withScope,
} from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, type SimdKernels, simdKernels, simdRunner, tuning } from './simd-kernels';

/**
 * `Conv2DBackpropInput` on wasm, replacing tfjs-backend-wasm's own, which is a scalar C++
 * loop (no SIMD, no XNNPACK) and dominated a LeNet training step.
 *
 * The input gradient of a convolution is a convolution of dy with the filter rotated by 180
 * degrees and its in/out channels swapped, Wr[a, b, co, ci] = W[kh-1-a, kw-1-b, ci, co]:
 *
 *   dx[n, h, w, ci] = sum_{a, b, co} dyUp[n, h + padTop - (ekh-1) + a*d, ..., co] * Wr[a, b, co, ci]
 *
 * where dyUp is dy with s-1 zeros inserted between rows and columns (stride s; a no-op for
 * s = 1), d the dilation and ekh = (kh-1)*d + 1 the effective filter height. So it runs as
 * one `Conv2D` (stride 1, dilation d; convkit's direct convolution where it applies, see
 * conv2d.ts, else XNNPACK's) with top pad ekh-1-padTop and bottom pad
 * H + padTop - Oh*s, cropping dy where a pad comes out negative (explicit pads larger than
 * the filter). Zero insertion costs s^2 times the minimal FLOPs for s > 1, and the padded
 * border is computed too, so where that waste is large (stride > 1, 'valid' layers with
 * many outputs) a second method is used when SIMD is available: a GEMM of dy with the filter and
 * a col2im (see `backpropInputByGemm`; `preferGemm` chooses). NCHW is handled by transposing
 * to NHWC and back.
 */
export function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const convAttrs = attrs as unknown as ConvAttrs & {
    dataFormat?: 'NHWC' | 'NCHW';
    inputShape: [number, number, number, number];
  };
  const { pad, dataFormat, inputShape } = convAttrs;
  return withScope(backend, (scope) => {
    let dy = inputs.dy as Info;
    const filter = inputs.filter as Info;
    let $pad = pad;
    let xShape = inputShape;
    const nchw = dataFormat === 'NCHW';
    if (nchw) {
      dy = scope.transpose(dy, NCHW_TO_NHWC);
      if (Array.isArray(pad)) $pad = NCHW_TO_NHWC.map((i) => pad[i]);
      xShape = NCHW_TO_NHWC.map((i) => inputShape[i]) as typeof inputShape;
    }
    const info = nhwcConvInfo(
      xShape,
      filter.shape as [number, number, number, number],
      convAttrs,
      false,
      $pad,
    );
    const simd =
      info.dilationHeight === 1 && info.dilationWidth === 1 ? simdKernels(backend) : undefined;
    const dx =
      simd && preferGemm(info, dy.shape[1] * dy.shape[2])
        ? backpropInputByGemm(scope, simd, dy, filter, info)
        : backpropInputByConvolution(scope, dy, rotateFilter(scope, filter, false), info, false);
    return nchw ? scope.transpose(dx, NHWC_TO_NCHW) : dx;
  });
}

/**
 * Rotate an HWIO filter by 180 degrees spatially. For a regular convolution also swap I and O
 * ([kh, kw, Ci, Co] -> [kh, kw, Co, Ci]); for a depthwise one ([kh, kw, C, M]) lay it out as a
 * multiplier-1 depthwise filter over C*M channels ([kh, kw, C*M, 1], channel c*M + m).
 */
export function rotateFilter(scope: KernelScope, filter: Info, depthwise: boolean): Info {
  const [kh, kw, ci, co] = filter.shape;
  const out = scope.alloc(depthwise ? [kh, kw, ci * co, 1] : [kh, kw, co, ci]);
  const src = scope.f32(filter);
  const dst = scope.f32(out);
  const taps = kh * kw;
  const block = ci * co;
  for (let t = 0; t < taps; t++) {
    const s0 = t * block;
    const d0 = (taps - 1 - t) * block;
    if (depthwise) {
      dst.set(src.subarray(s0, s0 + block), d0);
    } else {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
      }
    }
  }
  return out;
}

/**
 * dx = convolution of the zero-inserted dy with the rotated filter (see above). `depthwise`:
 * `rotated` is [kh, kw, C*M, 1] and the result is summed over the multiplier M.
 */
export function backpropInputByConvolution(
  scope: KernelScope,
  dy: Info,
  rotated: Info,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: ekh, effectiveFilterWidth: ekw } = info;
  // dy's own extent: tfjs's conv2d gradient drops dimRoundingMode, so with 'ceil' dy can have
  // one row/column more than convInfo recomputes; its windows still start at p*s - padTop.
  const [, oh, ow] = dy.shape;
  const up = scope.dilateSpatial(dy, sh, sw);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const cropped = scope.cropNegative(up, {
    top: ekh - 1 - top,
    left: ekw - 1 - left,
    bottom: h + top - up.shape[1],
    right: w + left - up.shape[2],
  });
  if (n === 0 || cropped.x.shape[1] === 0 || cropped.x.shape[2] === 0 || oh <= 0 || ow <= 0) {
    return scope.alloc([n, h, w, ci], 'float32', true);
  }
  let dx: Info;
  if (depthwise) {
    const m = dy.shape[3] / ci;
    const full = scope.depthwiseConv2d(cropped.x, rotated, [1, 1], [dh, dw], cropped.pads); // [N, H, W, C*M]
    dx =
      m === 1
        ? full
        : scope.run(
            'Sum',
            { x: { ...full, shape: [n, h, w, ci, m] } },
            { axis: [4], keepDims: false },
          );
  } else {
    dx = scope.conv2d(cropped.x, rotated, [1, 1], [dh, dw], cropped.pads);
  }
  if (dx.shape[1] !== h || dx.shape[2] !== w) {
    throw new Error(
      `backprop input: internal shape mismatch ${dx.shape} vs [${n}, ${h}, ${w}, ${ci}]`,
    );
  }
  return dx;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};

/**
 * Cost model, fitted to nine shapes measured on 2 threads (LeNet-5's and ResNet-20's among
 * them; each pick below right, or within 4% of right): the convolution computes
 * H*W*kh*kw*Ci8*Co MACs (its zero-inserted / padded border included; Ci8 = Ci rounded up to
 * the direct convolution's blocks of 8 outputs), the GEMM Oh*Ow*kh*kw*Ci column elements,
 * each costing Co MACs plus about 50 MACs' time (its dot product's reduction and store and
 * the col2im's add: ~1 ns). So the GEMM wins for stride > 1 and for 'valid' layers with many
 * outputs, the convolution for 'same' and small 'valid' ones. Measured: LeNet-5's second
 * layer 0.99 ms by convolution against 1.25 by GEMM; the same layer with 64 outputs 2.1 by
 * GEMM against 3.0; ResNet-20's stride-2 layers 1.0 and 0.71 by GEMM against 2.0 and 1.7
 * (batch 16); 30x30x16 -> 32 'valid' 3.2 by convolution against 5.5.
 */
function preferGemm(info: tf.backend_util.Conv2DInfo, dyPixels: number): boolean {
  if (tuning.backpropInput !== 'auto') return tuning.backpropInput === 'gemm';
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  return dyPixels * ci * (co + 50) < h * w * blocksOf8(ci) * co;
}

/**
 * dx by GEMM and col2im: cols = dy [N*Oh*Ow, Co] x W^T [Co, kh*kw*Ci] as the SIMD `gemmNT`
 * (dot products along Co of dy's rows and the HWIO filter's rows, both read in place: no
 * transpose, no packing), then the SIMD `col2im` adds each column block into the window of dx
 * it came from. Exact FLOPs for any stride and padding (no inserted zeros, no padded border),
 * plus one vectorized pass over the columns. Dilation 1 only. The batch is split so that cols
 * stays under 32 MB. On the kernel threads the GEMM splits rows of cols, the col2im images.
 */
export function backpropInputByGemm(
  scope: KernelScope,
  simd: SimdKernels,
  dy: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const [kh, kw, , co] = filter.shape;
  const [, oh, ow] = dy.shape;
  const kkc = kh * kw * ci;
  const dx = scope.alloc([n, h, w, ci], 'float32', true);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const { run, threads } = simdRunner(scope.backend, simd, n * oh * ow * co * kkc);
  const chunk = Math.max(1, Math.min(n, Math.floor(tuning.maxColumnFloats / (oh * ow * kkc))));
  const pixels = oh * ow;
  const { top, left } = info.padInfo;
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const m = Math.min(chunk, n - n0);
    const cols = scope.alloc([m * pixels, kkc]);
    const dyRows = ptr(dy) + n0 * pixels * co * 4;
    // cols[r, (a, e, c)] = sum_o dy[n0 * Oh*Ow + r, o] * W[(a, e, c), o]
    const gemm = ([r0, r1]: [number, number]) => ({
      name: 'gemmNT',
      args: [dyRows + r0 * co * 4, ptr(filter), ptr(cols) + r0 * kkc * 4, r1 - r0, kkc, co, co, 0],
    });
    run(splitRange(m * pixels, threads, 4).map((rows) => [gemm(rows)]));
    const images = ([i0, i1]: [number, number]) => ({
      name: 'col2im',
      args: [
        ptr(cols) + i0 * pixels * kkc * 4,
        ptr(dx) + (n0 + i0) * h * w * ci * 4,
        i1 - i0,
        h,
        w,
        ci,
        oh,
        ow,
        kh,
        kw,
        sh,
        sw,
        top,
        left,
      ],
    });
    run(splitRange(m, threads).map((range) => [images(range)]));
    scope.free(cols);
  }
  return dx;
}
