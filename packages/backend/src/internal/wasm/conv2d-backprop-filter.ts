import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvAttrs,
  type Info,
  type KernelScope,
  NCHW_TO_NHWC,
  nhwcConvInfo,
  view,
  withScope,
} from './kernel-scope';
import { type KernelCall, splitRange } from './kernel-workers';
import {
  heapOffset,
  type KernelRunner,
  type SimdKernels,
  simdKernels,
  simdRunner,
  tuning,
} from './simd-kernels';
import { filterByWinograd, winogradFits } from './winograd';

/**
 * `Conv2DBackpropFilter` on wasm (tfjs-backend-wasm has none): the gradient of a 2-D
 * convolution with respect to its HWIO filter. With xpad the zero-padded input, stride s and
 * dilation d:
 *
 *   dW[kh, kw, ci, co] = sum_{n, p, q} xpad[n, p*s + kh*d, q*s + kw*d, ci] * dy[n, p, q, co]
 *
 * Five exact methods:
 *
 * W. Winograd F(2x2, 3x3) (winograd.ts `filterByWinograd`, for 3x3 stride-1 layers of 64
 *    channels or more: ResNet-18's, VGG's): 2.25x fewer multiply-adds, summed in another order.
 * P. Planar (the SIMD `filterGradPlanar`, for a 1-channel input at stride and dilation 1:
 *    LeNet-5's first layer): dy as one plane per output channel, each tap's sum taken 4
 *    pixels at a time along x's rows (`filterPlanar`).
 * 0. Direct (the SIMD `filterGradDirect`, where Co % 8 == 0, Ci >= 4 and dy is 8 or more
 *    wide: most layers of a ResNet, LeNet-5's second): a pass over the output rows per
 *    L2-sized block of dW, each x row and dy row read in place while every tap adds its
 *    products into dW. No im2col (Kh*Kw times x's size, written then read once) and no
 *    transposes: 1.1 to 1.8x the GEMM's speed on ResNet-20's layers and 1.4x on LeNet-5's
 *    second, one thread.
 * 1. GEMM (the other shapes, whenever the SIMD helpers of simd-kernels.ts can run): the
 *    transposed im2col of x, [kh*kw*Ci, N*Oh*Ow], times dy, [N*Oh*Ow, Co], is dW directly
 *    (`filterByGemm`).
 *    The im2col honours every pad, stride, dilation and rounding mode by bounds. The product
 *    is the SIMD `gemmNT` (dot products along N*Oh*Ow, against dy transposed to [Co, N*Oh*Ow]
 *    by the SIMD `transpose2d`), not XNNPACK: XNNPACK would repack one K-long operand on
 *    every call (~3 ns per float: 0.9 ms of LeNet conv1's 1.7). Where dW is small next to
 *    the patches (few output channels over many pixels) the batch runs in L2-sized chunks of
 *    images, whole chunks to each of convkit's kernel workers (`imageChunk`); otherwise large
 *    batches run in chunks under the column budget, accumulated in place, with every step
 *    split between the workers (kernel-workers.ts).
 * 2. Convolution (fallback): dW is itself a forward convolution of X' = xpad transposed to
 *    [Ci, H, W, N] (batch Ci, channels N) with the filter F' = dy transposed to
 *    [Oh, Ow, N, Co], stride d and dilation s (the roles swap), giving [Ci, kh, kw, Co],
 *    transposed to [kh, kw, Ci, Co]. The padding is passed to XNNPACK (implicit zeros):
 *    top/left as in the forward pass, bottom/right chosen so that the padded height is exactly
 *    (Oh-1)*s + (kh-1)*d + 1, which makes the output exactly kh x kw; where that is less than
 *    the forward's bottom pad (rows the forward never read, e.g. H not aligned with the
 *    stride) x is cropped instead, and where it is more (dimRoundingMode 'ceil') the extra
 *    rows are implicit zeros. XNNPACK accepts stride and dilation > 1 together, so the swapped
 *    convolution needs no special case. Its cost beyond the FLOPs: XNNPACK repacks F' (all of
 *    dy) on every call, plus three transposes.
 *
 * All handle 'same', 'valid', numeric and explicit (asymmetric) pads, any dimRoundingMode
 * (dy's own extent is used: tfjs's gradient drops the rounding mode and may pass a dy one row
 * larger than its convInfo), NCHW (transposed to NHWC) and, beyond what tfjs passes, a
 * `dilations` attribute.
 */
export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const convAttrs = attrs as unknown as ConvAttrs & {
    dataFormat?: 'NHWC' | 'NCHW';
    filterShape: [number, number, number, number];
  };
  const { pad, dataFormat, filterShape } = convAttrs;
  return withScope(backend, (scope) => {
    let x = inputs.x as Info;
    let dy = inputs.dy as Info;
    let $pad = pad;
    if (dataFormat === 'NCHW') {
      x = scope.transpose(x, NCHW_TO_NHWC);
      dy = scope.transpose(dy, NCHW_TO_NHWC);
      if (Array.isArray(pad)) $pad = NCHW_TO_NHWC.map((i) => pad[i]);
    }
    const info = nhwcConvInfo(
      x.shape as [number, number, number, number],
      filterShape,
      convAttrs,
      false,
      $pad,
    );
    const [kh, kw, ci, co] = filterShape;
    const [n, h, w] = x.shape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    // dy's own extent (see conv2d-backprop-input.ts: with dimRoundingMode 'ceil' tfjs's
    // gradient passes a dy one row/column larger than convInfo recomputes).
    const [, oh, ow] = dy.shape;
    const needH = (oh - 1) * sh + (kh - 1) * dh + 1;
    const needW = (ow - 1) * sw + (kw - 1) * dw + 1;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const cropped = scope.cropNegative(x, {
      top,
      left,
      bottom: needH - top - h,
      right: needW - left - w,
    });
    if (n === 0 || oh <= 0 || ow <= 0 || cropped.x.shape[1] === 0 || cropped.x.shape[2] === 0) {
      // Every tap of every window falls into the padding: the gradient is zero.
      return scope.alloc([kh, kw, ci, co], 'float32', true);
    }
    const simd = tuning.backpropFilter !== 'conv' ? simdKernels(backend) : undefined;
    if (simd) {
      if (planarFits(info, filterShape)) {
        return filterPlanar(scope, simd, cropped.x, dy, cropped.pads, filterShape);
      }
      return filterBySimd(scope, simd, x, dy, info, filterShape);
    }
    const xt = scope.transpose(cropped.x, [3, 1, 2, 0]); // [Ci, H', W', N]
    const dyt = scope.transpose(dy, [1, 2, 0, 3]); // [Oh, Ow, N, Co]
    const out = scope.conv2d(xt, dyt, [dh, dw], [sh, sw], cropped.pads); // [Ci, kh, kw, Co]
    if (ci === 1) return view(out, [kh, kw, ci, co]);
    return scope.transpose(out, [1, 2, 0, 3]);
  });
}

/**
 * dW with the SIMD kernels, on every kernel thread for large enough gradients: directly
 * (`filterGradDirect`) where Co % 8 == 0, Ci >= 4 and dy's rows are 8 or more wide, else as
 * one GEMM.
 */
function filterBySimd(
  scope: KernelScope,
  simd: SimdKernels,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
): Info {
  const [kh, kw, ci, co] = filterShape;
  const n = x.shape[0];
  const [, oh, ow] = dy.shape;
  const { run, threads } = simdRunner(scope.backend, simd, kh * kw * ci * co * n * oh * ow);
  // Direct where the output channels allow, and in `auto` where the rows are long enough to
  // pay for loading and storing each block of sums per row (7 wide: 0.8x the GEMM; 8: 1.1x;
  // 32: 1.8x) and there are 4 or more input channels (fewer leave the second thread idle:
  // ResNet's RGB first layers ran at 0.6 to 0.8x the GEMM on 2 threads).
  const { inChannels, outChannels } = info;
  const wide = Math.min(inChannels, outChannels) >= tuning.winogradFilterMinChannels;
  if (tuning.backpropFilter === 'auto' && wide && winogradFits(info)) {
    return filterByWinograd(scope, simd, x, dy, info);
  }
  const direct =
    co % 8 === 0 &&
    (tuning.backpropFilter === 'direct' ||
      (tuning.backpropFilter === 'auto' && ci >= 4 && ow >= tuning.directMinWidth));
  return direct
    ? filterDirect(scope, x, dy, info, filterShape, run, threads)
    : filterByGemm(scope, x, dy, info, filterShape, run, threads);
}

/**
 * Whether `filterPlanar` takes this gradient: a 1-channel input (a grey image's first layer,
 * LeNet-5's), stride and dilation 1, in `auto` or `direct`.
 */
function planarFits(
  info: tf.backend_util.Conv2DInfo,
  [, , ci]: [number, number, number, number],
): boolean {
  const unit = info.strideHeight === 1 && info.strideWidth === 1;
  const undilated = info.dilationHeight === 1 && info.dilationWidth === 1;
  const method = tuning.backpropFilter === 'auto' || tuning.backpropFilter === 'direct';
  return ci === 1 && unit && undilated && method;
}

/**
 * dW of a 1-channel input by `filterGradPlanar`: dy transposed to one plane per output
 * channel (rows padded to 4 pixels with zeros), x's rows padded on the left and right, and
 * every tap's sum taken 4 pixels at a time along the rows, so every SIMD lane does useful work.
 * The batch goes in chunks of images (fixed by the shapes, L2-sized: the bits do not depend on
 * the thread count), whole chunks to each thread, each chunk's 4 lanes of sums on pages of
 * their own, added after in one fixed order.
 *
 * LeNet-5's first layer (28x28, 6 outputs, batch 64): see the changeset for the timings
 * against the GEMM (which wrote and read an im2col 25 times x's size).
 */
function filterPlanar(
  scope: KernelScope,
  simd: SimdKernels,
  x: Info,
  dy: Info,
  { top, left }: { top: number; left: number },
  filterShape: [number, number, number, number],
): Info {
  const [kh, kw, , co] = filterShape;
  const [n, hx, wx] = x.shape;
  const [, oh, ow] = dy.shape;
  const ow4 = Math.ceil(ow / 4) * 4;
  const wp = ow4 + kw - 1;
  const { run, threads } = simdRunner(scope.backend, simd, kh * kw * co * n * oh * ow);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const xp = scope.alloc([n, hx, wp]);
  const right = 4 * (wp - left - wx);
  run([[{ name: 'padColumns', args: [ptr(x), ptr(xp), n * hx, 4 * wx, 4 * left, right] }]]);
  let rows = dy;
  if (ow4 !== ow) {
    rows = scope.alloc([n, oh, ow4, co]);
    const args = [ptr(dy), ptr(rows), n * oh, 4 * ow * co, 0, 4 * (ow4 - ow) * co];
    run([[{ name: 'padColumns', args }]]);
  }
  const npix = n * oh * ow4;
  const dyt = transposeOnThreads(scope, rows, npix, co, run, threads); // [Co, N*Oh*ow4]
  const imageFloats = co * oh * ow4 + hx * wp;
  const per = Math.max(
    1,
    Math.min(Math.ceil(n / 4), Math.floor(tuning.filterChunkFloats / imageFloats)),
  );
  const chunks = Math.ceil(n / per);
  const size = kh * kw * co;
  const stride = Math.ceil((4 * size) / 1024) * 1024; // each chunk's lanes on pages of their own
  const lanes = scope.alloc([chunks * stride]);
  const chunk = (c: number): KernelCall => ({
    name: 'filterGradPlanar',
    args: [
      ptr(xp),
      ptr(dyt),
      ptr(lanes) + c * stride * 4,
      c * per,
      Math.min(per, n - c * per),
    ].concat([hx, wp, oh, ow4, co, kh, kw, top, npix]),
  });
  run(splitRange(chunks, threads).map(([c0, c1]) => range(c0, c1).map(chunk)));
  const out = scope.alloc([kh, kw, 1, co]);
  addLanesInOrder(scope.f32(out), scope.f32(lanes), chunks, size, stride);
  return out;
}

/**
 * sum[i] = the 4 lanes of every chunk's sums for output i, in one fixed order (lanes pairwise,
 * then chunk after chunk), float32 adds: the same bits on any thread count.
 */
function addLanesInOrder(
  sum: Float32Array,
  lanes: Float32Array,
  chunks: number,
  size: number,
  stride: number,
): void {
  for (let i = 0; i < size; i++) {
    let total = 0;
    for (let c = 0; c < chunks; c++) {
      const at = c * stride + 4 * i;
      const part = Math.fround(
        Math.fround(lanes[at] + lanes[at + 1]) + Math.fround(lanes[at + 2] + lanes[at + 3]),
      );
      total = c === 0 ? part : Math.fround(total + part);
    }
    sum[i] = total;
  }
}

/** [rows, cols] -> [cols, rows] by the SIMD `transpose2d`, by blocks of 4 source rows a thread. */
function transposeOnThreads(
  scope: KernelScope,
  src: Info,
  rows: number,
  cols: number,
  run: KernelRunner,
  threads: number,
): Info {
  if (cols === 1) return view(src, [1, rows]);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const dst = scope.alloc([cols, rows]);
  const share = ([r0, r1]: [number, number]): KernelCall => ({
    name: 'transpose2d',
    args: [ptr(src) + r0 * cols * 4, ptr(dst) + r0 * 4, r1 - r0, cols, rows],
  });
  run(splitRange(rows, threads, 4).map((range) => [share(range)]));
  return dst;
}

/**
 * dW by `filterGradDirect`: no im2col and no transposes, x and dy read in place. The threads
 * take even shares of the input channels (each in blocks of 4, the rest one narrower block),
 * or, under 8 channels, whole chunks of images; either way every output float is one sum in
 * one fixed order: the bits do not depend on the thread count. Each thread's channels go in
 * passes whose part of dW fits in L2, since every output row adds into all of it.
 */
function filterDirect(
  scope: KernelScope,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
  run: KernelRunner,
  threads: number,
): Info {
  const [kh, kw, ci, co] = filterShape;
  const [n, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const passChannels = Math.max(4, Math.floor(tuning.directPassFloats / (kh * kw * co) / 4) * 4);
  const geometry = [h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, top, left];
  /**
   * The calls that add channels [c0, c1) of dW, summed over images [n0, n0 + m), into the
   * [kh, kw, Ci, Co] buffer at `dst`.
   */
  const passes = (dst: number, [c0, c1]: number[], [n0, m] = [0, n]): KernelCall[] => {
    const [xs, dys] = [ptr(x) + n0 * h * w * ci * 4, ptr(dy) + n0 * oh * ow * co * 4];
    const calls: KernelCall[] = [];
    for (let c = c0; c < c1; c += passChannels) {
      const channels = [c, Math.min(c1, c + passChannels)];
      calls.push({ name: 'filterGradDirect', args: [xs, dys, dst, m, ...geometry, ...channels] });
    }
    return calls;
  };
  const size = kh * kw * ci * co;
  if (ci < 8 && n >= 2) {
    // Under 8 channels the threads' channel shares leave their blocks of 4 part-empty (LeNet-5's
    // second layer, 6 channels: 3 + 3 on 2 threads). So the batch goes in 4 chunks of images
    // (fixed by the shapes: the bits do not depend on the thread count), whole chunks to each
    // thread, each summing all channels into its own zeroed dW, added in chunk order after.
    // LeNet-5's second layer at batch 64 on 2 threads: 0.50 ms against 0.57 by channels (8
    // chunks 0.53, 2 chunks 0.49); on one thread the same as one pass (0.88 against 0.87).
    const per = Math.ceil(n / Math.min(n, 4));
    const chunks = Math.ceil(n / per);
    const stride = Math.ceil(size / 1024) * 1024; // each chunk's sums on pages of their own
    const out = scope.alloc([kh, kw, ci, co], 'float32', true);
    const partials = scope.alloc([(chunks - 1) * stride], 'float32', true);
    const dst = (c: number) => (c === 0 ? ptr(out) : ptr(partials) + (c - 1) * stride * 4);
    const chunk = (c: number) => passes(dst(c), [0, ci], [c * per, Math.min(per, n - c * per)]);
    run(splitRange(chunks, threads).map(([c0, c1]) => range(c0, c1).flatMap(chunk)));
    addInOrder(scope.f32(out), scope.f32(partials), chunks - 1, size, stride);
    return out;
  }
  const out = scope.alloc([kh, kw, ci, co], 'float32', true);
  // Even shares of channels, not of blocks of 4: on 2 threads 12 channels (6 + 6) took 0.69
  // ms against 0.79 to 0.84 for 8 + 4.
  const shares = splitRange(ci, threads);
  // The first thread sums into dW, every other one into a zeroed private copy starting on a
  // page of its own, gathered after. With all threads adding into dW (their channels
  // interleaved every Ci*Co floats, even 64-byte aligned), ResNet-20's first stage ran slower
  // on 2 threads than on 1; write sets on separate pages run at full speed.
  const copies = shares.slice(1).map(() => scope.alloc([size + 1024], 'float32', true));
  const onOwnPage = (t: Info) => (ptr(t) + 4095) & ~4095;
  run(shares.map((range, i) => passes(i === 0 ? ptr(out) : onOwnPage(copies[i - 1]), range)));
  const dst = scope.f32(out);
  copies.forEach((copy, i) => {
    const [c0, c1] = shares[i + 1];
    const src = scope.f32(copy);
    const skip = (onOwnPage(copy) - ptr(copy)) / 4;
    for (let tap = 0; tap < kh * kw; tap++) {
      const at = (tap * ci + c0) * co;
      dst.set(src.subarray(skip + at, skip + at + (c1 - c0) * co), at);
    }
    scope.free(copy);
  });
  return out;
}

/**
 * dW as one GEMM: dW[(a, e, ci), co] = sum_{(n, p, q)} patchesT[(a, e, ci), (n, p, q)] * dy[(n, p, q), co],
 * with patchesT the transposed im2col of x (SIMD `im2colT`, from x transposed to [Ci, N, H, W],
 * a free view when Ci = 1) and dy transposed to [Co, N*Oh*Ow], so that `gemmNT` takes dot
 * products of contiguous rows. The result is already [kh, kw, Ci, Co]. Batches whose patches
 * exceed the column budget run in chunks, summed.
 *
 * On several threads each step is split so that every output float is written by one call
 * doing exactly what one thread would: the transposes by blocks of 4 source rows, the im2col
 * by filter taps, the GEMM by blocks of 4 rows of dW. The bits do not depend on the thread
 * count (wasm-threads.test.ts).
 */
function filterByGemm(
  scope: KernelScope,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
  run: KernelRunner,
  threads: number,
): Info {
  const [kh, kw, ci, co] = filterShape;
  const [n, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const rows = kh * kw * ci;
  const pixels = oh * ow;
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const xt = transposeOnThreads(scope, x, n * h * w, ci, run, threads); // [Ci, N, H, W]
  const dyt = transposeOnThreads(scope, dy, n * pixels, co, run, threads); // [Co, N*Oh*Ow]
  const out = scope.alloc([kh, kw, ci, co]);
  const { im2col, gemm } = gemmSteps(scope, xt, dyt, info, filterShape, x.shape, dy.shape);
  const small = imageChunk(n, rows, pixels, co);
  if (small) {
    sumImageChunks(scope, { im2col, gemm }, out, [n, small, pixels], run, threads);
    return out;
  }
  const chunk = Math.max(1, Math.min(n, Math.floor(tuning.maxColumnFloats / (rows * pixels))));
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const m = Math.min(chunk, n - n0);
    const patches = scope.alloc([rows, m * pixels]);
    if (threads > 1) {
      // Filter taps (one block of patch rows each) between the threads, then rows of out.
      const taps = splitRange(kh * kw, threads).map(([t0, t1]) =>
        Array.from({ length: t1 - t0 }, (_, i) =>
          im2col(patches, n0, m, [Math.floor((t0 + i) / kw), (t0 + i) % kw, 1, 1]),
        ),
      );
      run(taps);
      run(
        splitRange(rows, threads, 4).map((range) => [
          gemm(patches, ptr(out), n0, m, range, n0 > 0),
        ]),
      );
    } else {
      run([
        [im2col(patches, n0, m, [0, 0, kh, kw]), gemm(patches, ptr(out), n0, m, [0, rows], n0 > 0)],
      ]);
    }
    scope.free(patches);
  }
  return out;
}

/**
 * dW into `out` ([rows, Co]) by chunks of `small` images, each chunk's im2col and GEMM on one
 * thread (threads take whole chunks). Each chunk's sums go to a buffer of their own (the
 * first to out) and are added in chunk order after: the same sums as accumulating chunk after
 * chunk on one thread.
 */
function sumImageChunks(
  scope: KernelScope,
  { im2col, gemm }: ReturnType<typeof gemmSteps>,
  out: Info,
  [n, small, pixels]: number[],
  run: KernelRunner,
  threads: number,
): void {
  const [kh, kw, ci, co] = out.shape;
  const size = kh * kw * ci * co;
  const chunks = Math.ceil(n / small);
  const partials = scope.alloc([chunks - 1, size]);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const dst = (c: number) => (c === 0 ? ptr(out) : ptr(partials) + (c - 1) * size * 4);
  const shares = splitRange(chunks, threads).map(([c0, c1]) => {
    const patches = scope.alloc([kh * kw * ci, small * pixels]);
    return Array.from({ length: c1 - c0 }, (_, i) => {
      const [n0, m] = [(c0 + i) * small, Math.min(small, n - (c0 + i) * small)];
      return [
        im2col(patches, n0, m, [0, 0, kh, kw]),
        gemm(patches, dst(c0 + i), n0, m, [0, kh * kw * ci], false),
      ];
    }).flat();
  });
  run(shares);
  addInOrder(scope.f32(out), scope.f32(partials), chunks - 1, size, size);
}

/**
 * sum += parts[c] for c = 0 .. count - 1 in order, float32 adds: each part `size` floats, `stride`
 * apart. One fixed order, so the result does not depend on which thread summed which chunk.
 */
function addInOrder(
  sum: Float32Array,
  parts: Float32Array,
  count: number,
  size: number,
  stride: number,
): void {
  for (let c = 0; c < count; c++) {
    for (let i = 0; i < size; i++) sum[i] = Math.fround(parts[c * stride + i] + sum[i]);
  }
}

/** [a, a + 1, ..., b - 1] */
function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/**
 * The two kernel calls of the GEMM filter gradient, for images [n0, n0 + m): `im2col` writes
 * their transposed patches ([rows, m*Oh*Ow], filter rows [a, a + tapRows) x tapCols from tap
 * (a, e)) into `patches`; `gemm` adds (or, not accumulating, writes) rows [r0, r1) of
 * patches . dyt[:, n0*Oh*Ow :] into the [rows, Co] dW at heap address `dst`.
 */
function gemmSteps(
  scope: KernelScope,
  xt: Info,
  dyt: Info,
  info: tf.backend_util.Conv2DInfo,
  [, kw, ci, co]: [number, number, number, number],
  [n, h, w]: number[],
  [, oh, ow]: number[],
) {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const pixels = oh * ow;
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const im2col = (
    patches: Info,
    n0: number,
    m: number,
    [a, e, tapRows, tapCols]: number[],
  ): KernelCall => ({
    name: 'im2colT',
    args: [
      ...[ptr(xt), ptr(patches) + (a * kw + e) * ci * m * pixels * 4, ci, n, n0, m, h, w, oh, ow],
      ...[tapRows, tapCols, sh, sw, dh, dw, top - a * dh, left - e * dw],
    ],
  });
  const gemm = (
    patches: Info,
    dst: number,
    n0: number,
    m: number,
    [r0, r1]: [number, number],
    accumulate: boolean,
  ): KernelCall => ({
    name: 'gemmNT',
    args: [
      ...[ptr(patches) + r0 * m * pixels * 4, ptr(dyt) + n0 * pixels * 4, dst + r0 * co * 4],
      ...[r1 - r0, co, m * pixels, n * pixels, accumulate ? 1 : 0],
    ],
  });
  return { im2col, gemm };
}

/**
 * Images per chunk when the GEMM filter gradient runs chunk by chunk, each chunk's im2col and
 * GEMM on one thread (threads take whole chunks), or undefined to run the whole batch (or
 * `maxColumnFloats` chunks) with each step split between the threads.
 *
 * Chunks fit a chunk's patches in half an L2 (`tuning.filterChunkFloats`), so the GEMM reads
 * what the im2col just wrote from cache, and the threads share no cache lines. This pays where
 * dW is small next to a chunk's patches (each chunk's dW is summed in after), i.e. few output
 * channels over many pixels. LeNet-5's first layer (1 input channel, 6 outputs, 28x28, batch
 * 64: chunks of 6 images) took 0.52 ms on 2 threads against 0.63 split by taps, and 0.86
 * against 0.84 on one (medians of calls alternated in one process). The chunk size depends
 * only on the shapes, so the bits do not depend on the thread count.
 */
function imageChunk(n: number, rows: number, pixels: number, co: number): number | undefined {
  const chunk = Math.max(1, Math.min(n, Math.floor(tuning.filterChunkFloats / (rows * pixels))));
  const smallDw = 16 * co <= chunk * pixels;
  return chunk < n && smallDw ? chunk : undefined;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
