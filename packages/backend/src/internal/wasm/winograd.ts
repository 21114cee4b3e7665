import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelScope } from './kernel-scope';
import { type KernelCall, splitRange } from './kernel-workers';
import { cachedPacking } from './packed-filters';
import {
  heapOffset,
  type KernelRunner,
  type SimdKernels,
  simdRunner,
  tuning,
} from './simd-kernels';

/**
 * A 3x3, stride-1 convolution as Winograd F(2x2, 3x3) (Lavin and Gray, 2015; the transforms
 * are in simd-kernels.ts): every 2x2 block of outputs ("tile") from its 4x4 input window with
 * 16 multiplications a channel pair instead of 36, so 2.25x fewer multiply-adds than the
 * direct convolution, which already runs at the WASM SIMD roof (bench/ROOFLINE.md).
 *
 * 1. The input, padded to whole tiles (zeros; `padColumns` and `zeroBytes`).
 * 2. `winogradInput`: each tile's window as 16 values a channel, in 16 planes [tiles, Ci].
 * 3. `winogradFilter`: the filter as 16 [Ci, Co] matrices, packed for `convDirect` and kept
 *    with the filter as the direct convolution keeps its packed filter.
 * 4. `winogradProducts`: the 16 matrix products [tiles, Ci] x [Ci, Co].
 * 5. `winogradOutput`: each tile's 16 sums to its 2x2 outputs.
 *
 * Each step splits between the kernel threads by tiles, channels or output blocks; every
 * output is the same sums in the same order on any thread count. The rounding differs from the
 * direct sum (the transforms add and subtract before and after the products, and each plane
 * sums Ci products where the direct sum runs over 9*Ci): against a float64 reference its worst
 * error on a 64-channel layer was 0.46x the direct convolution's (the suite checks within 2x).
 */
export function convByWinograd(
  scope: KernelScope,
  simd: SimdKernels,
  x: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const tiling = tilesOf(n, oh, ow);
  const { tilesH, tilesW, tiles } = tiling;
  const { run, threads } = simdRunner(scope.backend, simd, 16 * tiles * ci * co);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const padded = padToTiles(scope, run, threads, x, info, tiling);
  const u = winogradFilter(scope, run, threads, filter, ci, co);
  const y = scope.alloc([n, oh, ow, co]);
  /** Tiles [t0, t1) into the 16 planes at v (vPlane bytes apart), then zeros to a whole row. */
  const input = (v: number, vPlane: number, t0: number, t1: number): KernelCall[] => {
    const spare = Math.ceil((t1 - t0) / ROW) * ROW - (t1 - t0);
    return [
      inputCall(ptr(padded), tiling, ci, v, vPlane, [t0, t1]),
      // A last row's spare tiles: zeros, so that their (unused) products are zeros.
      ...Array.from({ length: spare > 0 ? 16 : 0 }, (_, k) => ({
        name: 'zeroBytes',
        args: [v + k * vPlane + (t1 - t0) * ci * 4, spare * ci * 4],
      })),
    ];
  };
  /** The 16 products [tiles, Ci] x [Ci, Co] of `rows` rows of tiles, outputs [ob0, ob1). */
  const products = (
    v: number,
    vPlane: number,
    m: number,
    mPlane: number,
    rows: number,
    [ob0, ob1]: number[],
  ): KernelCall => ({
    name: 'winogradProducts',
    args: [v, vPlane, u, m, mPlane, rows * ROW, ci, co, 0, 16, ob0, ob1],
  });
  const output = (m: number, mPlane: number, t0: number, t1: number): KernelCall => ({
    name: 'winogradOutput',
    args: [
      m - t0 * co * 4,
      ptr(y),
      4 * co,
      tilesH * tilesW,
      tilesW,
      oh,
      ow,
      4 * ow * co,
      mPlane,
      t0,
      t1,
    ],
  });

  const fit = chunkTiles(ci, co);
  if (ci * co > tiles * (ci + co) && co / 8 >= 4 * threads && threads > 1) {
    // A filter larger than the planes of the whole batch (ResNet-18's 14x14 and 7x7 layers at
    // batch 1): the threads split the outputs of the products, each reading its part of the
    // filter once (in chunks of tiles, each thread would read all of it for every chunk).
    const rows = Math.ceil(tiles / ROW);
    const [vPlane, mPlane] = [rows * ROW * ci * 4 + PLANE_SKEW, rows * ROW * co * 4 + PLANE_SKEW];
    const v = ptr(scope.alloc([(16 * (vPlane + mPlane)) / 4]));
    const m = v + 16 * vPlane;
    // The transforms split by rows of tiles (only the last share has spare tiles to zero).
    const byRows = splitRange(tiles, threads, ROW);
    run(byRows.map(([t0, t1]) => input(v + t0 * ci * 4, vPlane, t0, t1)));
    run(splitRange(co, threads, 8).map((ob) => [products(v, vPlane, m, mPlane, rows, ob)]));
    run(byRows.map(([t0, t1]) => [output(m + t0 * co * 4, mPlane, t0, t1)]));
    return y;
  }
  // Else each thread takes whole chunks of tiles through every step, in its own scratch.
  const chunk = Math.min(fit, Math.ceil(tiles / threads / ROW) * ROW);
  const [vPlane, mPlane] = [chunk * ci * 4 + PLANE_SKEW, chunk * co * 4 + PLANE_SKEW];
  const scratch = ptr(scope.alloc([threads, (16 * (vPlane + mPlane)) / 4]));
  run(
    splitRange(tiles, threads, chunk).map(([s0, s1], share) => {
      const v = scratch + share * 16 * (vPlane + mPlane);
      const m = v + 16 * vPlane;
      const calls: KernelCall[] = [];
      for (let t0 = s0; t0 < s1; t0 += chunk) {
        const t1 = Math.min(s1, t0 + chunk);
        const rows = Math.ceil((t1 - t0) / ROW);
        calls.push(
          ...input(v, vPlane, t0, t1),
          products(v, vPlane, m, mPlane, rows, [0, co]),
          output(m, mPlane, t0, t1),
        );
      }
      return calls;
    }),
  );
  return y;
}

/**
 * The filter gradient of a convolution `winogradFits` takes, by Winograd F(2x2, 3x3) run
 * backwards (the forward is linear in the 16 planes of the transformed filter U, so dU is the
 * products' gradient A dY A^T times the transformed input B^T d B, summed over the tiles, and
 * dW = G^T dU G):
 *
 * 1. x padded to whole tiles, as the forward.
 * 2. In chunks of tiles: `winogradInput` of the chunk, `winogradDy` of its dy (2x2 -> 4x4),
 *    and 16 products summed over the chunk's tiles into dU (`filterGradDirect` on 1x1 taps).
 * 3. `winogradFilterGrad`: dW = G^T dU G.
 *
 * Where dU is small (up to `tuning.winogradFilterGroupBytes`: 64 channels), the tiles fall in
 * TILE_GROUPS fixed groups, each summed into its own dU, the threads taking whole groups, and
 * the group sums are then added in order. Where it is large, the threads split the input
 * channels, each transforming the whole of dy (a small part of the work there). Either way
 * every sum runs over the same tiles in the same order on any thread count; the chunk's size
 * depends on the channels only. 2.25x fewer multiply-adds than the direct filter gradient.
 */
export function filterByWinograd(
  scope: KernelScope,
  simd: SimdKernels,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: n, inChannels: ci, outChannels: co } = info;
  const [, oh, ow] = dy.shape; // dy's own extent, as the other filter gradients
  const tiling = tilesOf(n, oh, ow);
  const { tilesH, tilesW, tiles } = tiling;
  const { run, threads } = simdRunner(scope.backend, simd, 16 * tiles * ci * co);
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const padded = ptr(padToTiles(scope, run, threads, x, info, tiling));
  const du = ptr(scope.alloc([16, ci, co], 'float32', true));
  const chunk = chunkTiles(ci, co, tuning.winogradFilterChunkBytes);
  const [vPlane, dPlane] = [chunk * ci * 4 + PLANE_SKEW, chunk * co * 4 + PLANE_SKEW];
  const scratch = ptr(scope.alloc([threads, (16 * (vPlane + dPlane)) / 4]));
  const dyGeometry = [4 * co, tilesH * tilesW, tilesW, oh, ow, 4 * ow * co, dPlane];
  /** Tiles [s0, s1) of input channels [c0, c1), in chunks, added into sums at `target`. */
  const sumsOver = (
    share: number,
    [s0, s1]: number[],
    channels: [number, number],
    target: number,
  ) => {
    const v = scratch + share * 16 * (vPlane + dPlane);
    const d = v + 16 * vPlane;
    const calls: KernelCall[] = [];
    for (let t0 = s0; t0 < s1; t0 += chunk) {
      const t1 = Math.min(s1, t0 + chunk);
      const m = t1 - t0;
      calls.push(
        inputCall(padded, tiling, ci, v, vPlane, [t0, t1], channels),
        { name: 'winogradDy', args: [ptr(dy), d - t0 * co * 4, ...dyGeometry, t0, t1] },
        // sums[k] += sum over the chunk's tiles of V[k][t, c] * DY[k][t, o]: the tiles as
        // one image row of m pixels, a 1x1 filter.
        ...Array.from({ length: 16 }, (_, k) => ({
          name: 'filterGradDirect',
          // x, dy, sums; n, h, w, C; oh, ow, K; kh, kw, strides, dilations, pads; channels
          args: [
            ...[v + k * vPlane, d + k * dPlane, target + k * ci * co * 4],
            ...[1, 1, m, ci, 1, m, co, 1, 1, 1, 1, 1, 1, 0, 0],
            ...channels,
          ],
        })),
      );
    }
    return calls;
  };
  const floats = 16 * ci * co;
  if (floats * 4 <= tuning.winogradFilterGroupBytes) {
    // Small sums: by groups of tiles. Split by channels here, every thread would transform
    // all of dy for a few products: on 2 threads ResNet-20's 32 -> 32 layer took 6.9 ms that
    // way and 5.4 by groups, its 64 -> 64 4.9 and 4.3 (the direct filter gradient: 6.6, 6.9).
    const groups = splitRange(tiles, TILE_GROUPS);
    const partials = ptr(scope.alloc([groups.length, floats], 'float32', true));
    run(
      splitRange(groups.length, threads).map(([g0, g1], share) =>
        groups
          .slice(g0, g1)
          .flatMap((range, g) => sumsOver(share, range, [0, ci], partials + (g0 + g) * floats * 4)),
      ),
    );
    run([[{ name: 'sumPattern', args: [partials, du, groups.length * floats, floats] }]]);
  } else {
    // Large sums: the threads split the input channels, each transforming all of dy.
    run(
      splitRange(ci, threads, 4).map((channels, share) =>
        sumsOver(share, [0, tiles], channels, du),
      ),
    );
  }
  const dw = scope.alloc([3, 3, ci, co]);
  run(
    splitRange(ci, threads, 4).map(([c0, c1]) => [
      { name: 'winogradFilterGrad', args: [du, ptr(dw), ci, 4 * co, 4 * ci * co, c0, c1] },
    ]),
  );
  return dw;
}

/**
 * Tiles a chunk takes: their 16 planes of transformed input and products (or dy) stay in the
 * L2 cache; through memory, the planes of a batch cost more than the multiply-adds saved.
 */
function chunkTiles(ci: number, co: number, bytes = tuning.winogradChunkBytes): number {
  const fit = Math.floor(bytes / (16 * 4 * (ci + co)) / ROW) * ROW;
  return Math.max(ROW, fit);
}

/** Groups of tiles whose filter-gradient sums add up apart (see `filterByWinograd`). */
const TILE_GROUPS = 4;

/** Tiles are counted in rows of ROW (`winogradProducts` takes them in blocks of 4). */
const ROW = 8;

/**
 * Bytes between consecutive planes beyond their data. Planes a multiple of 4 KB apart (a
 * chunk of 128 tiles of 16 channels is 8 KB) put the transform's 16 stores of a step at the
 * same address modulo 4 KB, which the CPU takes for a possible overlap with the next step's
 * loads and stalls on ("4K aliasing"): 64 more bytes took ResNet-20's 16-channel layer from
 * 11.3 to 9.4 ms and its 32-channel one from 7.7 to 6.3.
 */
const PLANE_SKEW = 64;

/**
 * Whether a convolution takes Winograd F(2x2, 3x3): 3x3, stride 1, no dilation, input channels
 * in fours and outputs in eights (the transforms' SIMD steps and `convDirect`'s output blocks),
 * and at least `tuning.winogradMinChannels` (16) of each (the transforms, a pass over 16
 * values a tile and channel each way, weigh more the fewer products each value takes part in;
 * under 16 was not measured, and 16 only just pays). Measured against the
 * direct convolution on 2 threads, alternated in one process (each with its own copy of the
 * filter: one buffer keeps one packing, and alternating repacks it every call), ms:
 * CIFAR ResNet-20 at batch 128, 16 -> 16 at 32x32, 6.0-6.4 vs 7.4-7.5; 32 at 16x16, 4.5 vs
 * 6.7; 64 at 8x8, 4.1 vs 6.5; ResNet-18 at batch 1, 64 at 56x56, 1.9 vs 2.6; 128 at 28x28,
 * 1.8 vs 2.5; 256 at 14x14, 1.8 vs 2.6; 512 at 7x7, 2.2 vs 2.6; at batch 8, 64 at 56x56, 11.1
 * vs 20.0.
 */
export function winogradFits(info: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth, inChannels, outChannels } = info;
  return (
    filterHeight === 3 &&
    filterWidth === 3 &&
    strideHeight === 1 &&
    strideWidth === 1 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    inChannels % 4 === 0 &&
    outChannels % 8 === 0 &&
    Math.min(inChannels, outChannels) >= tuning.winogradMinChannels &&
    tuning.conv !== 'direct' &&
    winogradAllowed()
  );
}

/**
 * The tfjs environment flag that turns Winograd off, `tf.env().set('CONVKIT_WASM_WINOGRAD',
 * false)` (for the direct convolution's sums, or to compare the two), as tfjs's own
 * `WEBGL_CONV_IM2COL` picks its WebGL convolution. On by default.
 */
export const WINOGRAD_FLAG = 'CONVKIT_WASM_WINOGRAD';

/** Register `WINOGRAD_FLAG` (on) unless it is (registerWasmTrainingKernels calls this). */
export function registerWinogradFlag(): void {
  try {
    tf.env().getBool(WINOGRAD_FLAG);
  } catch {
    // tfjs throws for a flag it has no evaluation function for: not yet registered.
    tf.env().registerFlag(WINOGRAD_FLAG, () => true);
  }
}

function winogradAllowed(): boolean {
  registerWinogradFlag();
  return tf.env().getBool(WINOGRAD_FLAG);
}

/** The 2x2 tiles of an [N, oh, ow] output, and the padded input [N, hp, wp] they read. */
interface Tiling {
  tilesH: number;
  tilesW: number;
  tiles: number;
  hp: number;
  wp: number;
}

function tilesOf(n: number, oh: number, ow: number): Tiling {
  const [tilesH, tilesW] = [Math.ceil(oh / 2), Math.ceil(ow / 2)];
  return { tilesH, tilesW, tiles: n * tilesH * tilesW, hp: 2 * tilesH + 2, wp: 2 * tilesW + 2 };
}

/**
 * `winogradInput` of tiles [t0, t1), channels [c0, c1), of the padded input at `padded` into
 * the 16 planes at v (vPlane bytes apart), tile t0 first.
 */
function inputCall(
  padded: number,
  { tilesH, tilesW, hp, wp }: Tiling,
  ci: number,
  v: number,
  vPlane: number,
  [t0, t1]: number[],
  [c0, c1] = [0, ci],
): KernelCall {
  // The kernel indexes the planes by the tile's number in the batch: the base moved back by t0.
  const geometry = [4 * ci, tilesH * tilesW, tilesW, 4 * wp * ci, 4 * hp * wp * ci];
  return {
    name: 'winogradInput',
    args: [padded, v - t0 * ci * 4, ...geometry, vPlane, t0, t1, 4 * c0, 4 * c1],
  };
}

/**
 * x with zero rows and columns around it, [N, hp, wp, Ci]: every tile's 4x4 window inside it.
 * The images split between the threads.
 */
function padToTiles(
  scope: KernelScope,
  run: KernelRunner,
  threads: number,
  x: Info,
  info: tf.backend_util.Conv2DInfo,
  { hp, wp }: Tiling,
): Info {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { top, left } = info.padInfo;
  const padded = scope.alloc([n, hp, wp, ci]);
  const [src, dst] = [
    heapOffset(scope.backend, x.dataId),
    heapOffset(scope.backend, padded.dataId),
  ];
  const rowBytes = 4 * wp * ci;
  const image = (b: number): KernelCall[] => {
    const out = dst + b * hp * rowBytes;
    return [
      { name: 'zeroBytes', args: [out, top * rowBytes] },
      {
        name: 'padColumns',
        args: [
          src + b * h * w * ci * 4,
          out + top * rowBytes,
          h,
          4 * w * ci,
          4 * left * ci,
          4 * (wp - left - w) * ci,
        ],
      },
      { name: 'zeroBytes', args: [out + (top + h) * rowBytes, (hp - top - h) * rowBytes] },
    ];
  };
  // A small copy stays on this thread: waking the workers costs more than it saves.
  const shares = n * hp * wp * ci < tuning.parallelMinFloats ? 1 : threads;
  run(
    splitRange(n, shares).map(([b0, b1]) =>
      Array.from({ length: b1 - b0 }, (_, i) => image(b0 + i)).flat(),
    ),
  );
  return padded;
}

/** The heap address of `filter`'s 16 transformed [Ci, Co] matrices, packed for `convDirect`. */
function winogradFilter(
  scope: KernelScope,
  run: KernelRunner,
  threads: number,
  filter: Info,
  ci: number,
  co: number,
): number {
  const backend = scope.backend;
  return cachedPacking(backend, filter, 'winograd', 16 * ci * co, (address) => {
    const w = heapOffset(backend, filter.dataId);
    const shares = 16 * ci * co < tuning.parallelMinFloats ? 1 : threads;
    run(
      splitRange(ci, shares).map(([c0, c1]) => [
        { name: 'winogradFilter', args: [w, address, ci, 4 * co, 4 * ci * co, c0, c1] },
      ]),
    );
  });
}
