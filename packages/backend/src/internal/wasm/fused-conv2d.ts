import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { ChannelWalk, pattern, runChunks } from './channel-walk';
import { conv2dMethod } from './conv2d';
import {
  type ConvAttrs,
  type Info,
  type KernelFunc,
  nhwcConvInfo,
  withScope,
} from './kernel-scope';
import { heapOffset, simdKernels } from './simd-kernels';

/** The activations fused here, by the SIMD pass that applies them after the bias. */
const PASSES: Record<string, string> = {
  linear: 'addPattern',
  relu: 'addPatternRelu',
  relu6: 'addPatternRelu6',
};

/**
 * `FusedConv2D` on wasm (`tf.fused.conv2d`: a convolution, its bias and an activation), wrapped:
 * where convkit's direct convolution takes the shapes (conv2d.ts), it runs that convolution
 * (the `Conv2D` kernel, on every kernel thread) and then adds the bias and applies a linear,
 * ReLU or ReLU6 activation in one SIMD pass over the output, in place, split between the
 * threads as the bias add is (channel-walk.ts). tfjs's own kernel runs XNNPACK's convolution
 * with both fused, on one thread beside convkit's workers; NCHW, other activations (PReLU,
 * leaky ReLU, ELU, sigmoid), a bias that is not one value per output channel, and no SIMD
 * still go there. Unfused, the same work is three kernels and two passes over the output.
 */
export function makeFusedConv2D(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, filter, bias } = args.inputs as Record<string, Info | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs & { dataFormat?: string; activation?: string };
    const pass = PASSES[attrs.activation ?? 'linear'];
    const simd = simdKernels(backend);
    if (!x || !filter || !pass || !simd || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32') {
      return original(args);
    }
    const filterShape = filter.shape as [number, number, number, number];
    const info = nhwcConvInfo(
      x.shape as [number, number, number, number],
      filterShape,
      attrs,
      false,
    );
    const co = filterShape[3];
    const perChannel = !bias || tf.util.sizeFromShape(bias.shape) === co;
    if (conv2dMethod(info) !== 'direct' || !perChannel) return original(args);
    return withScope(backend, (scope) => {
      const y = scope.run('Conv2D', { x, filter }, { ...attrs, dataFormat: 'NHWC' } as never);
      if (!bias && pass === 'addPattern') return y;
      const walk = new ChannelWalk(tf.util.sizeFromShape(y.shape), co);
      // A copy: the pattern's allocation may grow the heap, detaching views of it.
      const values = bias ? scope.f32(bias).slice() : new Float32Array(co);
      const repeated = pattern(scope, walk, values);
      const at = (floats: number) => heapOffset(backend, y.dataId) + floats * 4;
      runChunks(backend, simd, walk, (_, start, end) => ({
        name: pass,
        args: [
          at(start),
          heapOffset(backend, repeated.dataId),
          at(start),
          end - start,
          walk.period,
        ],
      }));
      const ys = scope.f32(y);
      for (let i = walk.whole; i < walk.total; i++) ys[i] = activate(ys[i] + values[i % co], pass);
      return y;
    });
  };
}

/** The pass's activation on one float (the floats past the SIMD blocks). */
function activate(v: number, pass: string): number {
  if (pass === 'addPattern' || Number.isNaN(v)) return v;
  const relu = Math.max(v, 0);
  return pass === 'addPatternRelu6' ? Math.min(relu, 6) : relu;
}
