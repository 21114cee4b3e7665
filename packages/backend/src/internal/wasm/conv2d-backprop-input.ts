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
  view,
  withScope,
} from './kernel-scope';
import { splitRange } from './kernel-workers';
import {
  heapOffset,
  type SimdKernels,
  simdKernels,
  simdPassRunner,
  simdRunner,
  tuning,
} from './simd-kernels';

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
 *
 * The swap is the SIMD `transpose2d` per tap, the taps split between the kernel threads:
 * as a JS loop (strided writes, a cache miss each for wide layers) it took about 7 ms of
 * ResNet-18's 512-channel input gradient at batch 1.
 */
export function rotateFilter(scope: KernelScope, filter: Info, depthwise: boolean): Info {
  const [kh, kw, ci, co] = filter.shape;
  const out = scope.alloc(depthwise ? [kh, kw, ci * co, 1] : [kh, kw, co, ci]);
  const taps = kh * kw;
  const block = ci * co;
  const simd = simdKernels(scope.backend);
  if (simd && !depthwise) {
    const [src, dst] = [
      heapOffset(scope.backend, filter.dataId),
      heapOffset(scope.backend, out.dataId),
    ];
    const { run, threads } = simdPassRunner(scope.backend, simd, taps * block);
    const tap = (t: number) => ({
      name: 'transpose2d',
      args: [src + t * block * 4, dst + (taps - 1 - t) * block * 4, ci, co, ci],
    });
    run(
      splitRange(taps, threads).map(([t0, t1]) =>
        Array.from({ length: t1 - t0 }, (_, i) => tap(t0 + i)),
      ),
    );
    return out;
  }
  const from = scope.f32(filter);
  const to = scope.f32(out);
  for (let t = 0; t < taps; t++) {
    const s0 = t * block;
    const d0 = (taps - 1 - t) * block;
    if (depthwise) {
      to.set(from.subarray(s0, s0 + block), d0);
    } else {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) to[d0 + o * ci + i] = from[s0 + i * co + o];
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
 * Cost model, in multiply-adds per image, fitted to nine shapes measured on 2 threads
 * (bench shapes of LeNet-5, ResNet-20 and ResNet-18; every pick below right): the convolution
 * computes H*W*kh*kw*Ci8*Co (its zero-inserted and padded border included; Ci8 = Ci rounded up
 * to the direct convolution's blocks of 8 outputs); the GEMM, a 1x1 convolution, computes
 * Oh*Ow*Co*K8 for its K = kh*kw*Ci columns (rounded up to eights), and the col2im adds each
 * of its Oh*Ow*K column elements back at about 12 multiply-adds' time (8 to 18 measured).
 * So the GEMM wins for stride > 1 and for 'valid' layers with few outputs, the convolution
 * for 'same' layers. Measured (ms, GEMM against convolution): LeNet-5's second layer at batch
 * 64 0.68 against 0.82; ResNet-20's stride-2 16 -> 32 at batch 32 1.25 against 4.1, its 3x3
 * 16 -> 16 'same' 3.1 against 2.0; ResNet-18's 512-channel 7x7 layer at batch 1 7.8 against
 * 5.9 and its stride-2 128 -> 256 2.5 against 7.3; 56x56x64 at batch 8 27 against 20; 30x30x16
 * -> 32 'valid' 0.90 against 0.77.
 */
function preferGemm(info: tf.backend_util.Conv2DInfo, dyPixels: number): boolean {
  if (tuning.backpropInput !== 'auto') return tuning.backpropInput === 'gemm';
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const columns = kh * kw * ci;
  const gemm = dyPixels * (co * blocksOf8(columns) + 12 * columns);
  return gemm < h * w * kh * kw * blocksOf8(ci) * co;
}

/**
 * dx by GEMM and col2im: cols = dy [N*Oh*Ow, Co] x W^T [Co, kh*kw*Ci], run as a 1x1
 * convolution over dy's pixels (convkit's direct convolution, with the filter transposed
 * once by the SIMD `transpose2d`; `gemmNT`'s dot products along Co spent as long reducing
 * as multiplying when Co is 16 to 32), then the SIMD `col2im` adds each column block into
 * the window of dx it came from. Exact FLOPs for any stride and padding (no inserted zeros,
 * no padded border), plus one vectorized pass over the columns. Dilation 1 only. The batch is
 * split so that cols stays under 32 MB. On the kernel threads the convolution splits blocks
 * of columns, the col2im images.
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
  // W transposed to [Co, kh*kw*Ci]: the filter of a 1x1 convolution over dy's pixels.
  const wt = scope.alloc([1, 1, co, kkc]);
  run([[{ name: 'transpose2d', args: [ptr(filter), ptr(wt), kkc, co, kkc] }]]);
  const noPads = { top: 0, bottom: 0, left: 0, right: 0 };
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const m = Math.min(chunk, n - n0);
    const rows = view(dy, [n * pixels, co]);
    const dyRows =
      m === n
        ? rows
        : scope.run('Slice', { x: rows }, { begin: [n0 * pixels, 0], size: [m * pixels, co] });
    // cols[r, (a, e, c)] = sum_o dy[n0 * Oh*Ow + r, o] * W[(a, e, c), o]
    const cols = scope.conv2d(view(dyRows, [1, 1, m * pixels, co]), wt, [1, 1], [1, 1], noPads);
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
    if (dyRows !== rows) scope.free(dyRows);
  }
  return dx;
}
