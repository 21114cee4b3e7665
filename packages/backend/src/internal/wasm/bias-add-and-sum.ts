import * as tf from '@tensorflow/tfjs-core';
import { type Info, type KernelFunc, view, withScope } from './kernel-scope';
import { heapOffset, simdKernels } from './simd-kernels';

/**
 * The bias of every conv and dense layer, forward and backward, on wasm.
 *
 * tfjs-backend-wasm adds a [C] bias to an [N, H, W, C] activation through XNNPACK's generic
 * broadcasting add, and sums the bias gradient over axes [0, 1, 2] by first transposing the
 * whole tensor to [C, N*H*W]; with few channels (LeNet's 6) both run far below memory speed
 * (0.7 and 0.5 ms for a 64x28x28x6 tensor). Here the flat data is walked in blocks of
 * P = lcm(C, 4) floats, so the channel of every float in a block is fixed: the add streams
 * `x + pattern` (the bias repeated P/C times) and the sum accumulates P running sums, both 4
 * floats per SIMD step (simd-kernels.ts); the sum then folds the P lanes into C outputs in
 * float64. The few floats past the last whole block are done in JS. Other shapes, dtypes, or
 * no SIMD: tfjs's own kernel.
 */

function lcm4(c: number): number {
  return c % 4 === 0 ? c : c % 2 === 0 ? 2 * c : 4 * c;
}

/** `Add` with a bias operand: b's size is the last dimension of a (or the other way round). */
export function makeBiasAdd(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const a = inputs.a as Info;
    const b = inputs.b as Info;
    const big = a.shape.length >= b.shape.length ? a : b;
    const bias = big === a ? b : a;
    const c = big.shape[big.shape.length - 1];
    const isBias =
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      bias.shape.length >= 1 &&
      bias.shape[bias.shape.length - 1] === c &&
      tf.util.sizeFromShape(bias.shape) === c &&
      tf.util.sizeFromShape(big.shape) >= 4 * lcm4(c);
    const simd = isBias ? simdKernels(backend) : undefined;
    if (!simd) return original(args);
    return withScope(backend, (scope) => {
      const period = lcm4(c);
      const total = tf.util.sizeFromShape(big.shape);
      const whole = total - (total % period);
      const pattern = scope.alloc([period]);
      const out = scope.alloc(big.shape);
      const pat = scope.f32(pattern);
      const bs = scope.f32(bias);
      for (let j = 0; j < period; j++) pat[j] = bs[j % c];
      const ptr = (t: Info) => heapOffset(backend, t.dataId);
      simd.addPattern(ptr(big), ptr(pattern), ptr(out), whole, period);
      const xs = scope.f32(big);
      const os = scope.f32(out);
      const bs2 = scope.f32(bias);
      for (let i = whole; i < total; i++) os[i] = xs[i] + bs2[i % c];
      return out;
    });
  };
}

/** `Sum` over leading axes (all but the trailing ones): the bias gradient. */
export function makeLeadingSum(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as Info;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const k = axes.length;
    const leading = k >= 1 && k < rank && axes.every((v, i) => v === i);
    const rows = leading ? tf.util.sizeFromShape(x.shape.slice(0, k)) : 0;
    const simd = leading && x.dtype === 'float32' && rows >= 2 ? simdKernels(backend) : undefined;
    if (!simd) return original(args);
    return withScope(backend, (scope) => {
      const inner = x.shape.slice(k);
      const c = tf.util.sizeFromShape(inner);
      const period = lcm4(c);
      const total = rows * c;
      const whole = total - (total % period);
      const acc = scope.alloc([period], 'float32', true);
      const out = scope.alloc(inner);
      simd.sumPattern(
        heapOffset(backend, x.dataId),
        heapOffset(backend, acc.dataId),
        whole,
        period,
      );
      const sums = new Float64Array(c);
      const accs = scope.f32(acc);
      for (let j = 0; j < period; j++) sums[j % c] += accs[j];
      const xs = scope.f32(x);
      for (let i = whole; i < total; i++) sums[i % c] += xs[i];
      scope.f32(out).set(sums);
      const shape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...inner] : inner;
      return view(out, shape);
    });
  };
}
