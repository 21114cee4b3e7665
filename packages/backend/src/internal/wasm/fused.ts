import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { addChannelValues } from './bias-add-and-sum';
import { conv2dMethod } from './conv2d';
import {
  type ConvAttrs,
  type Info,
  type KernelFunc,
  type KernelScope,
  nhwcConvInfo,
  withScope,
} from './kernel-scope';
import { type SimdKernels, simdKernels } from './simd-kernels';

/**
 * tfjs's fused kernels on wasm (`tf.fused.conv2d`, `tf.fused.matMul`: a product, its bias and
 * an activation, what tfjs-layers and convkit's Conv2d / Linear call), wrapped: the product
 * runs as convkit's own kernel (`Conv2D`, `BatchMatMul`, on every kernel thread), then the bias
 * and a linear, ReLU or ReLU6 activation in one SIMD pass over the output, in place, split
 * between the threads as the bias add is (channel-walk.ts). tfjs's own fused kernels run
 * XNNPACK on one thread beside convkit's workers (and its matrix product packs the weights on
 * every call); unfused, the same work is three kernels and two passes over the output. Other
 * activations (PReLU, leaky ReLU, ELU, sigmoid), a bias that is not one value per output
 * channel, and the shapes convkit's products leave to XNNPACK still go to tfjs's kernel.
 */

/** The activations fused here, by the SIMD pass that applies them after the bias. */
const PASSES: Record<string, string> = {
  linear: 'addPattern',
  relu: 'addPatternRelu',
  relu6: 'addPatternRelu6',
};

interface FusedAttrs {
  activation?: string;
}

/** `FusedConv2D`: where convkit's direct convolution takes the shapes (conv2d.ts). */
export function makeFusedConv2D(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, filter, bias } = args.inputs as Record<string, Info | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs & FusedAttrs & { dataFormat?: string };
    const simd = simdKernels(backend);
    const pass = PASSES[attrs.activation ?? 'linear'];
    if (!x || !filter || !simd || !pass || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32') {
      return original(args);
    }
    const shape = x.shape as [number, number, number, number];
    const info = nhwcConvInfo(shape, filter.shape as typeof shape, attrs, false);
    const co = filter.shape[3];
    if (conv2dMethod(info) === 'xnnpack' || !oneValuePerChannel(bias, co)) return original(args);
    return withScope(backend, (scope) => {
      const y = scope.run('Conv2D', { x, filter }, { ...attrs, dataFormat: 'NHWC' } as never);
      return addBiasAndActivate(scope, simd, y, bias, pass);
    });
  };
}

/** `_FusedMatMul`: where convkit's `BatchMatMul` takes the operands (batch-mat-mul.ts). */
export function makeFusedMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b, bias } = args.inputs as Record<string, Info | undefined>;
    const attrs = args.attrs as unknown as FusedAttrs & {
      transposeA: boolean;
      transposeB: boolean;
    };
    const simd = simdKernels(backend);
    const pass = PASSES[attrs.activation ?? 'linear'];
    if (!a || !b || !simd || !pass || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return original(args);
    }
    const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    if (!oneValuePerChannel(bias, n)) return original(args);
    return withScope(backend, (scope) => {
      const { transposeA, transposeB } = attrs;
      const y = scope.run('BatchMatMul', { a, b }, { transposeA, transposeB });
      return addBiasAndActivate(scope, simd, y, bias, pass);
    });
  };
}

/** A bias of one value per output channel (any rank, as tfjs broadcasts it), or none. */
function oneValuePerChannel(bias: Info | undefined, channels: number): boolean {
  return !bias || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === channels);
}

/** y = activation(y + bias) in place, by the SIMD pass `pass`; y's last axis is the channels. */
function addBiasAndActivate(
  scope: KernelScope,
  simd: SimdKernels,
  y: Info,
  bias: Info | undefined,
  pass: string,
): Info {
  if (!bias && pass === 'addPattern') return y;
  const channels = y.shape[y.shape.length - 1];
  // A copy: the pattern's allocation may grow the heap, detaching views of it.
  const values = bias ? scope.f32(bias).slice() : new Float32Array(channels);
  addChannelValues(scope, simd, y, y, values, pass, (v) => activate(v, pass));
  return y;
}

/** The pass's activation on one float (the floats past the SIMD blocks). */
function activate(v: number, pass: string): number {
  if (pass === 'addPattern' || Number.isNaN(v)) return v;
  const relu = Math.max(v, 0);
  return pass === 'addPatternRelu6' ? Math.min(relu, 6) : relu;
}
