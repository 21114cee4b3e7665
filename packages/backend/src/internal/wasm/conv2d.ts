import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type ConvAttrs,
  type Info,
  type KernelFunc,
  type KernelScope,
  nhwcConvInfo,
  withScope,
} from './kernel-scope';
import { splitRange } from './kernel-workers';
import { cachedPacking } from './packed-filters';
import {
  heapOffset,
  type KernelRunner,
  type SimdKernels,
  simdKernels,
  simdRunner,
  tuning,
} from './simd-kernels';
import { convByWinograd, winogradFits } from './winograd';

/**
 * `Conv2D` on wasm, wrapped: NHWC convolutions with output rows at least 4 wide run as
 * convkit's direct SIMD convolution (`convDirect` in simd-kernels.ts) on every kernel thread,
 * 3x3 stride-1 ones with 32 channels or more as Winograd F(2x2, 3x3) (winograd.ts, whose
 * products are `convDirect` too); narrower rows, NCHW, or no SIMD go to tfjs's XNNPACK kernel.
 *
 * Why: XNNPACK's convolution reached 72 to 77% of the WASM SIMD roof here and cannot use
 * relaxed-SIMD FMA in tfjs 4.22's build, while the direct loop has the load-to-multiply-add
 * ratio of the direct filter gradient, which runs at the roof (bench/ROOFLINE.md). The input
 * gradient of a stride-1 convolution is a convolution too (conv2d-backprop-input.ts), so it
 * takes the same path.
 *
 * The input is padded on the left and right once (SIMD `padColumns`; rows above and below
 * are skipped in the loop), so every 4-pixel block reads whole rows; the filter is packed once
 * and kept while it lives (`packedFilter`). Threads take ranges of output rows or of blocks of
 * outputs; either way every output float is one sum in one fixed order, on any thread count.
 */
export function makeConv2D(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as ConvAttrs & { dataFormat?: 'NHWC' | 'NCHW' };
    const x = inputs.x as Info;
    const filter = inputs.filter as Info;
    if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32') return original(args);
    const info = nhwcConvInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs,
      false,
    );
    const simd = simdKernels(backend);
    const method = conv2dMethod(info);
    if (!simd || method === 'xnnpack') return original(args);
    return withScope(backend, (scope) =>
      method === 'winograd'
        ? convByWinograd(scope, simd, x, filter, info)
        : convByDirect(scope, simd, x, filter, info),
    );
  };
}

/**
 * Which kernel runs a convolution: `winograd` where `winogradFits` (3x3, stride 1, 32 channels
 * or more; not with `tuning.conv` 'direct'), else `direct` for rows of 4 or more pixels (the kernel
 * takes narrower rows, as one block of 1 to 3 pixels, but those were not measured against
 * XNNPACK), or as `tuning.conv` forces. It was measured faster than XNNPACK on
 * every such shape here, 2 threads against XNNPACK's 2: 56x56x64 3x3 95 vs 74 GFLOP/s,
 * ResNet-18's 512-channel layer at batch 1 90 vs 65; and, since XNNPACK keeps one thread once
 * convkit's kernel workers run (loaders.ts), RGB stems 3.2 vs 7.3 ms and LeNet-5's second
 * layer 0.47 vs 0.87 ms. On one thread it is at least as fast (ResNet-18's stem 8.7 vs 10.9
 * ms). Outputs not in eights waste the last block's spare lanes and still won: LeNet-5's
 * first layer (6 outputs, 1 input channel) 0.80 ms on 1 thread and 0.50 on 2 against
 * XNNPACK's 1.06; at 8x32x32, 3x3 16 -> 1, 3 or 5 outputs 0.41 vs 0.55, 16 -> 10 or 12 0.65 vs
 * 1.05, 64 -> 20 3.2 vs 5.9 (these in the test runner, whose workers did not scale past one
 * thread).
 */
export function conv2dMethod(info: tf.backend_util.Conv2DInfo): 'winograd' | 'direct' | 'xnnpack' {
  const { outChannels: co, inChannels: ci, outWidth: ow, outHeight: oh, batchSize: n } = info;
  const fits = ow >= 4 && oh > 0 && n > 0 && ci > 0 && co > 0;
  if (!fits || tuning.conv === 'xnnpack') return 'xnnpack';
  return winogradFits(info) ? 'winograd' : 'direct';
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
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const { run, threads } = simdRunner(scope.backend, simd, n * oh * ow * co * kh * kw * ci);
  // Columns the last pixel's last tap reaches past the input: padded with zeros once.
  const right = Math.max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - left - w);
  const wp = w + left + right;
  let padded = x;
  if (left > 0 || right > 0) {
    padded = scope.alloc([n, h, wp, ci]);
    const [rowBytes, src, dst] = [4 * w * ci, ptr(x), ptr(padded)];
    const rows = ([r0, r1]: [number, number]) => ({
      name: 'padColumns',
      args: [
        src + r0 * rowBytes,
        dst + r0 * 4 * wp * ci,
        r1 - r0,
        rowBytes,
        4 * left * ci,
        4 * right * ci,
      ],
    });
    // A small copy stays on this thread: waking the workers costs more than it saves.
    const shares = n * h * wp * ci < tuning.parallelMinMacs ? 1 : threads;
    run(splitRange(n * h, shares).map((range) => [rows(range)]));
  }
  const packed = packedFilter(scope.backend, filter, kh * kw * ci, co, run, threads);
  const y = scope.alloc([n, oh, ow, co]);
  // dw = 1: a filter row's taps are one contiguous run of kw*Ci floats in x and in the filter.
  const runs = dw === 1 ? [1, kw * ci] : [kw, ci];
  const geometry = [h, wp, ci, oh, ow, co, kh, sh, sw, dh, top, ...runs, 4 * dw * ci];
  const args = [ptr(padded), packed, ptr(y), ...geometry];
  // The threads split the blocks of 8 outputs where there are enough to share evenly (4 a
  // thread or more: each thread then reads only its part of the filter), else the rows.
  const co8 = blocksOf8(co);
  const byBlocks = co8 / 8 >= 4 * threads;
  const shares = byBlocks
    ? splitRange(co8, threads, 8).map(([o0, o1]) => [0, n * oh, o0, o1])
    : splitRange(n * oh, threads).map(([r0, r1]) => [r0, r1, 0, co8]);
  run(shares.map((share) => [{ name: 'convDirect', args: [...args, ...share] }]));
  return y;
}

/**
 * The heap address of `filter` ([taps, Co] HWIO rows) packed for `convDirect`: each block of
 * 8 outputs' filter contiguous (in place, consecutive rows are Co floats apart: a 512-channel
 * layer, every row a page away, ran at 0.7x).
 */
function packedFilter(
  backend: BackendWasm,
  filter: Info,
  taps: number,
  co: number,
  run: KernelRunner,
  threads: number,
): number {
  const co8 = blocksOf8(co);
  return cachedPacking(backend, filter, `direct ${taps}x${co}`, taps * co8, (address) => {
    // A small filter is packed on this thread: waking the workers costs more than it saves.
    const shares = taps * co8 < tuning.parallelMinMacs ? 1 : threads;
    // Outputs not in eights: each row padded with zeros to eights first, so the last block's
    // spare lanes multiply zeros (and are not stored).
    const rows = co8 === co ? undefined : (backend.makeOutput([taps, co8], 'float32') as Info);
    if (rows) {
      const [src, dst] = [heapOffset(backend, filter.dataId), heapOffset(backend, rows.dataId)];
      run([[{ name: 'padColumns', args: [src, dst, taps, 4 * co, 0, 4 * (co8 - co)] }]]);
    }
    const src = heapOffset(backend, (rows ?? filter).dataId);
    run(
      splitRange(taps, shares).map(([t0, t1]) => [
        { name: 'packFilter', args: [src, address, taps, co8, t0, t1] },
      ]),
    );
    if (rows) backend.disposeData(rows.dataId, true);
  });
}

/** `co` rounded up to a multiple of 8: the outputs `convDirect` computes, in blocks of 8. */
export function blocksOf8(co: number): number {
  return Math.ceil(co / 8) * 8;
}
