import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type ConvAttrs,
  type Info,
  type KernelScope,
  nhwcConvInfo,
  withScope,
} from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, type SimdKernels, simdKernels, simdRunner, tuning } from './simd-kernels';

type KernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: tf.NamedAttrMap;
}) => Info;

/**
 * `Conv2D` on wasm, wrapped: NHWC convolutions with output channels in eights and rows at
 * least 4 wide run as convkit's direct SIMD convolution (`convDirect` in simd-kernels.ts) on
 * every kernel thread; other shapes, NCHW, or no SIMD go to tfjs's XNNPACK kernel.
 *
 * Why: XNNPACK's convolution reached 72 to 77% of the WASM SIMD roof here and cannot use
 * relaxed-SIMD FMA in tfjs 4.22's build, while the direct loop has the load-to-multiply-add
 * ratio of the direct filter gradient, which runs at the roof (bench/ROOFLINE.md). The input
 * gradient of a stride-1 convolution is a convolution too (conv2d-backprop-input.ts), so it
 * takes the same path.
 *
 * The input is padded on the left and right once (SIMD `padColumns`; rows above and below
 * are skipped in the loop), so every 4-pixel block reads whole rows. Threads take ranges of
 * output rows, so every output float is one sum in one fixed order on any thread count.
 */
export function makeConv2D(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as ConvAttrs & { dataFormat?: 'NHWC' | 'NCHW' };
    const x = inputs.x as Info;
    const filter = inputs.filter as Info;
    if (tuning.conv === 'xnnpack' || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32') {
      return original(args);
    }
    const info = nhwcConvInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs,
      false,
    );
    const simd = simdKernels(backend);
    if (!simd || !directApplies(info)) return original(args);
    return withScope(backend, (scope) => convByDirect(scope, simd, x, filter, info));
  };
}

/**
 * Output channels in eights (the register block) and rows of 4 or more pixels, always. In
 * `auto` also 8 or more input channels and at most `directMaxChannels` outputs, where it was
 * measured faster (2 threads, against XNNPACK: 56x56x64 3x3 90 vs 70 GFLOP/s, ResNet-20's
 * layers 78-93 vs 66-73). Fewer input channels (RGB stems, LeNet-5) and wider filters
 * (ResNet-18's 256 and 512: 45 vs 58; filter rows a page apart) stay with XNNPACK.
 */
function directApplies(info: tf.backend_util.Conv2DInfo): boolean {
  const { outChannels: co, inChannels: ci, outWidth: ow, outHeight: oh, batchSize: n } = info;
  if (co % 8 !== 0 || ow < 4 || oh <= 0 || n <= 0 || ci <= 0) return false;
  return tuning.conv === 'direct' || (ci >= 8 && co <= tuning.directMaxChannels);
}

function convByDirect(
  scope: KernelScope,
  simd: SimdKernels,
  x: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  // Columns the last pixel's last tap reaches past the input: padded with zeros once.
  const right = Math.max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - left - w);
  const wp = w + left + right;
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const { run, threads } = simdRunner(scope.backend, simd, n * oh * ow * co * kh * kw * ci);
  let padded = x;
  if (left > 0 || right > 0) {
    padded = scope.alloc([n, h, wp, ci]);
    const [rowBytes, src, dst] = [4 * w * ci, ptr(x), ptr(padded)];
    run(
      splitRange(n * h, threads).map(([r0, r1]) => [
        {
          name: 'padColumns',
          args: [
            src + r0 * rowBytes,
            dst + r0 * 4 * wp * ci,
            r1 - r0,
            rowBytes,
            4 * left * ci,
            4 * right * ci,
          ],
        },
      ]),
    );
  }
  const y = scope.alloc([n, oh, ow, co]);
  // dw = 1: a filter row's taps are one contiguous run of kw*Ci floats in x and in the filter.
  const runs = dw === 1 ? [1, kw * ci] : [kw, ci];
  const args = [
    ptr(padded),
    ptr(filter),
    ptr(y),
    h,
    wp,
    ci,
    oh,
    ow,
    co,
    kh,
    sh,
    sw,
    dh,
    top,
    ...runs,
    4 * dw * ci,
  ];
  run(
    splitRange(n * oh, threads).map(([r0, r1]) => [
      { name: 'convDirect', args: [...args, r0, r1] },
    ]),
  );
  return y;
}
