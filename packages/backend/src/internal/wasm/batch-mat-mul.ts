import * as tf from '@tensorflow/tfjs-core';
import { type Info, type KernelFunc, type KernelScope, view, withScope } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, type SimdKernels, simdKernels, simdRunner, tuning } from './simd-kernels';

/**
 * `BatchMatMul` on wasm, wrapping tfjs-backend-wasm's own. Its XNNPACK path (a fully
 * connected operator) only runs without transposes and with batch 1; anything else falls to a
 * scalar triple loop. Every dense layer's backward pass multiplies by a transposed operand
 * (dW = x^T dy, dx = dy W^T), and in LeNet-5 those two scalar products took a quarter of the
 * training step.
 *
 * Here a batched `a` times an unbatched `b` is one [B*M, K] x [K, N] product. With 4 or more
 * rows it runs on convkit's SIMD kernels on every kernel thread (`matMulBySimd`); fewer rows
 * (batch-1 inference) and no SIMD go to XNNPACK, a transposed operand first transposed for
 * real. XNNPACK keeps one thread once convkit's kernel workers run (loaders.ts), and it packs
 * `b` on every call (a dense layer's backward pass passes a new transposed operand each
 * time): LeNet-5's 400 -> 120 layer took 0.3 to 0.5 ms per product there. Batched `b` (batch
 * > 1) still goes to tfjs's loop, unchanged. Results equal the loop's to fp32 rounding (only
 * the summation order differs).
 */
export function makeBatchMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as Info;
    const b = inputs.b as Info;
    const { transposeA, transposeB } = attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
    };
    const aRank = a.shape.length;
    const bRank = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    if (
      batchB !== 1 ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      (batchA > 1 && transposeA)
    ) {
      return original(args);
    }
    const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
    const ka = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
    const kb = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
    const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
    if (ka !== kb) return original(args); // let tfjs report the mismatch
    const outShape = [
      ...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
      m,
      n,
    ];
    if (m * n * ka === 0) return original(args);
    const simd = simdKernels(backend);
    if (simd && tuning.matMul === 'auto' && batchA * m >= 4) {
      return withScope(backend, (scope) => {
        const dims = { m: batchA * m, k: ka, n };
        const product = matMulBySimd(scope, simd, a, b, dims, { transposeA, transposeB });
        return view(product, outShape);
      });
    }
    return withScope(backend, (scope) => {
      const a2 = transposeA ? scope.transpose(view(a, [ka, m]), [1, 0]) : view(a, [batchA * m, ka]);
      const b2 = transposeB ? scope.transpose(view(b, [n, kb]), [1, 0]) : view(b, [kb, n]);
      const out = original({
        inputs: { a: view(a2, [1, batchA * m, ka]), b: view(b2, [1, kb, n]) },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      scope.adopt(out);
      return view(out, outShape);
    });
  };
}

/**
 * a [M, K] (or its transpose, on one thread by the SIMD `transpose2d`: small next to the
 * product) times b [K, N] or its transpose, on every kernel thread:
 * - plain `b` (a layer's forward weights, or dy in dW = x^T dy) is the HWIO filter of a 1x1
 *   convolution over M pixels: convkit's direct convolution, whose packed copy of `b` is
 *   cached with it (a layer's weights are packed once per tensor, as XNNPACK caches its own);
 * - `b` transposed (dx = dy W^T) is what `gemmNT` reads in place: dot products of rows of
 *   A [M, K] and b [N, K], the threads taking blocks of 4 rows.
 * Either way every output is one sum in one fixed order on any thread count.
 */
function matMulBySimd(
  scope: KernelScope,
  simd: SimdKernels,
  a: Info,
  b: Info,
  { m, k, n }: { m: number; k: number; n: number },
  { transposeA, transposeB }: { transposeA: boolean; transposeB: boolean },
): Info {
  const ptr = (t: Info) => heapOffset(scope.backend, t.dataId);
  const { run, threads } = simdRunner(scope.backend, simd, m * n * k);
  let rowsA = a;
  if (transposeA) {
    rowsA = scope.alloc([m, k]);
    run([[{ name: 'transpose2d', args: [ptr(a), ptr(rowsA), k, m, k] }]]);
  }
  if (!transposeB) {
    const noPads = { top: 0, bottom: 0, left: 0, right: 0 };
    return scope.conv2d(view(rowsA, [1, 1, m, k]), view(b, [1, 1, k, n]), [1, 1], [1, 1], noPads);
  }
  const out = scope.alloc([m, n]);
  const share = ([r0, r1]: [number, number]) => [
    {
      name: 'gemmNT',
      args: [ptr(rowsA) + r0 * k * 4, ptr(b), ptr(out) + r0 * n * 4, r1 - r0, n, k, k, 0],
    },
  ];
  run(splitRange(m, threads, 4).map(share));
  return out;
}
