import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Info, view, withScope } from './kernel-scope';

type KernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}) => Info;

/**
 * `BatchMatMul` on wasm, wrapping tfjs-backend-wasm's own. Its XNNPACK path (a fully
 * connected operator) only runs without transposes and with batch 1; anything else falls to a
 * scalar triple loop. Every dense layer's backward pass multiplies by a transposed operand
 * (dW = x^T dy, dx = dy W^T), and in LeNet-5 those two scalar products took a quarter of the
 * training step.
 *
 * Here a transposed operand is first transposed for real (XNNPACK `Transpose`, cheap next to
 * the product), and a batched `a` times an unbatched `b` is one [B*M, K] x [K, N] product, so
 * both reach the XNNPACK path. Batched `b` (batch > 1) still goes to tfjs's loop, unchanged.
 * Results equal the loop's to fp32 rounding (only the summation order differs).
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
