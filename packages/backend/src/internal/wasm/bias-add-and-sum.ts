import * as tf from '@tensorflow/tfjs-core';
import { ChannelWalk, foldChunks, lcm4, pattern, runChunks } from './channel-walk';
import { type Info, type KernelFunc, type KernelScope, view, withScope } from './kernel-scope';
import { heapOffset, type SimdKernels, simdKernels } from './simd-kernels';

/**
 * The bias of every conv and dense layer, forward and backward, on wasm.
 *
 * tfjs-backend-wasm adds a [C] bias to an [N, H, W, C] activation through XNNPACK's generic
 * broadcasting add, and sums the bias gradient over axes [0, 1, 2] by first transposing the
 * whole tensor to [C, N*H*W]; with few channels (LeNet's 6) both run far below memory speed
 * (0.7 and 0.5 ms for a 64x28x28x6 tensor). Here both walk the channels as batch norm does
 * (channel-walk.ts: blocks of P = lcm(C, 4) floats in fixed chunks, split between the kernel
 * threads): the add streams `x + pattern` (the bias repeated P/C times) and the sum
 * accumulates P running sums per chunk, folded into C outputs in float64. The few floats past
 * the last whole block are done in JS. Other shapes, dtypes, or no SIMD: tfjs's own kernel.
 */

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
      const out = scope.alloc(big.shape);
      // A copy: the pattern's allocation may grow the heap, detaching views of it.
      addChannelValues(scope, simd, big, out, scope.f32(bias).slice(), 'addPattern');
      return out;
    });
  };
}

/**
 * out = tail(src + values[channel]) over channels-last data (`values`: one float per channel of
 * the last axis) by the SIMD stream `pass` (`addPattern`, or `addPatternRelu` / `addPatternRelu6`,
 * which clamp after the add: fused.ts), in fixed chunks on the kernel threads; `tail` applies
 * the pass's activation to the few floats past the last whole block, in JS. src and out may be
 * the same buffer.
 */
export function addChannelValues(
  scope: KernelScope,
  simd: SimdKernels,
  src: Info,
  out: Info,
  values: Float32Array,
  pass: string,
  tail: (v: number) => number = (v) => v,
): void {
  const { backend } = scope;
  const walk = new ChannelWalk(tf.util.sizeFromShape(src.shape), values.length);
  const repeated = pattern(scope, walk, values);
  const ptr = (t: Info, floats = 0) => heapOffset(backend, t.dataId) + floats * 4;
  runChunks(backend, simd, walk, (_, start, end) => ({
    name: pass,
    args: [ptr(src, start), ptr(repeated), ptr(out, start), end - start, walk.period],
  }));
  const [xs, os] = [src, out].map((t) => scope.f32(t));
  for (let i = walk.whole; i < walk.total; i++) os[i] = tail(xs[i] + values[i % values.length]);
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
      const walk = new ChannelWalk(
        rows * tf.util.sizeFromShape(inner),
        tf.util.sizeFromShape(inner),
      );
      const acc = scope.alloc([walk.chunks.length, walk.period], 'float32', true);
      const ptr = (t: Info, floats = 0) => heapOffset(backend, t.dataId) + floats * 4;
      runChunks(backend, simd, walk, (i, start, end) => ({
        name: 'sumPattern',
        args: [ptr(x, start), ptr(acc, i * walk.period), end - start, walk.period],
      }));
      const [sums] = foldChunks(scope, acc, walk, 1);
      const xs = scope.f32(x);
      for (let i = walk.whole; i < walk.total; i++) sums[i % walk.c] += xs[i];
      const out = scope.alloc(inner);
      scope.f32(out).set(sums);
      const shape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...inner] : inner;
      return view(out, shape);
    });
  };
}
