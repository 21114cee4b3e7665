import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { makeAvgPoolGrad } from './internal/wasm/avg-pool-grad';
import { makeBatchMatMul } from './internal/wasm/batch-mat-mul';
import {
  batchNormBackwardConfig,
  batchNormForwardConfig,
  batchNormInferenceConfig,
} from './internal/wasm/batch-norm';
import { makeBiasAdd, makeLeadingSum } from './internal/wasm/bias-add-and-sum';
import { makeConv2D } from './internal/wasm/conv2d';
import { conv2DBackpropFilterConfig } from './internal/wasm/conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './internal/wasm/conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './internal/wasm/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './internal/wasm/depthwise-conv2d-backprop-input';
import { makeFusedConv2D, makeFusedMatMul } from './internal/wasm/fused';
import { identityConfig, makeCast } from './internal/wasm/identity';
import { makeMaxPool } from './internal/wasm/max-pool';
import { maxPoolGradConfig } from './internal/wasm/max-pool-grad';
import { makeRelu, reluGradConfig } from './internal/wasm/relu';
import { prepareSimdKernels } from './internal/wasm/simd-kernels';
import { makeSlice } from './internal/wasm/slice';
import { unsortedSegmentSumConfig } from './internal/wasm/unsorted-segment-sum';
import { registerWinogradFlag } from './internal/wasm/winograd';

/**
 * The kernels convkit provides on tfjs-backend-wasm (4.22) so that conv nets train there,
 * correctly and fast. Each composes the wasm backend's own XNNPACK kernels, or runs a small
 * SIMD loop of simd-kernels.ts on the wasm heap (a module assembled at runtime that imports
 * tfjs's own memory; JS loops where it cannot run); the file of each explains its method.
 *
 * - `Conv2D` (wrapped: XNNPACK's reaches about three quarters of the SIMD roof, without FMA):
 *   convkit's direct SIMD convolution where its register block fits (outputs in eights) and
 *   `auto` measured it faster, on every kernel thread; XNNPACK otherwise.
 * - `FusedConv2D` and `_FusedMatMul` (wrapped: XNNPACK's, on one thread): the `Conv2D` or
 *   `BatchMatMul` here, then the bias and a linear, ReLU or ReLU6 activation in one SIMD pass.
 * - `Conv2DBackpropFilter` (missing): convkit's direct SIMD filter gradient, im2col^T x dy as
 *   one SIMD GEMM, or one XNNPACK convolution of the transposed input with the transposed dy.
 * - `Conv2DBackpropInput` (replaced: tfjs's is a scalar loop): one convolution (`Conv2D`
 *   above) of the (zero-inserted, for stride > 1) dy with the rotated, in/out-swapped
 *   filter, or, where that wastes work (stride > 1, 'valid'), a GEMM dy x W^T and a SIMD
 *   col2im.
 * - `DepthwiseConv2dNativeBackpropInput` (missing): a depthwise convolution, as above.
 * - `DepthwiseConv2dNativeBackpropFilter` (missing): a float64-accumulating loop.
 * - `MaxPoolGrad` (replaced: tfjs's drops the gradient of all-negative windows): first max
 *   per window, as tfjs-cpu and PyTorch; 2x2/2 windows in SIMD.
 * - `UnsortedSegmentSum` (missing; `tf.gather`'s gradient): one pass over the heap.
 * - `BatchMatMul` (wrapped: tfjs's runs transposed operands through a scalar loop, which
 *   every dense layer's backward pass does): explicit transposes, then XNNPACK.
 * - `Add` and `Sum` (wrapped, for a bias and its gradient only: tfjs's broadcast add and its
 *   transpose-then-reduce are slow with few channels): SIMD over lcm(C, 4)-float blocks.
 * - `ConvkitBatchNormForward` / `ConvkitBatchNormBackward` (convkit's own, for
 *   `batchNormTraining`): batch norm in train mode and its gradient, five SIMD passes.
 * - `ConvkitBatchNormInference` (convkit's own, for `batchNormInference`): eval mode, one
 *   SIMD pass instead of a multiply, an add and five small kernels.
 * - `ConvkitReluGrad` (convkit's own, ReLU's gradient, registered over tfjs's): dy * step(x)
 *   in one pass instead of a Step and a Multiply.
 * - `MaxPool` (wrapped: XNNPACK's keeps one thread beside convkit's workers): 2x2 windows
 *   at stride 2, unpadded, 4 or more channels, as one SIMD pass split between the threads.
 * - `AvgPoolGrad` (wrapped: tfjs's tests every filter tap of every input pixel): each
 *   output's gradient added once into its window.
 * - `Slice` (wrapped: tfjs's copies the whole input out of the heap first): heap to heap,
 *   run by run.
 * - `Identity` (replaced: tfjs's copies the buffer on every clone and every tensor a gradient
 *   saves) and `Cast` to the same dtype (wrapped; every ReLU gradient does one): share the
 *   buffer, as the cpu backend does.
 *
 * Measured on the 2-core dev machine (Node 20, SIMD, one thread), LeNet-5 at batch 64,
 * forward + backward + SGD: ~12-13 ms per step (tfjs's own kernels plus cpu delegation for
 * the missing ones: far slower; before the SIMD helpers: ~17 ms). What remains is XNNPACK
 * work: the five convolution products (~8 ms, skinny shapes: 1, 6 or 16 channels), the dense
 * layers (~1.3 ms, their weights repacked every step because SGD replaces them) and ~1.5 ms
 * of tfjs engine bookkeeping.
 */
const CONFIGS: tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  maxPoolGradConfig,
  unsortedSegmentSumConfig,
  identityConfig,
  batchNormForwardConfig,
  batchNormBackwardConfig,
  batchNormInferenceConfig,
  reluGradConfig,
];

/**
 * Register convkit's kernels on the 'wasm' backend, replacing tfjs's where it has one, and
 * return their names. Idempotent; call after the wasm backend is registered (selectBackend
 * does).
 */
export function registerWasmTrainingKernels(): string[] {
  const configs = [...CONFIGS];
  for (const [name, make] of [
    [tf.BatchMatMul, makeBatchMatMul],
    [tf.Add, makeBiasAdd],
    [tf.Sum, makeLeadingSum],
    [tf.Cast, makeCast],
    [tf.Conv2D, makeConv2D],
    [tf.FusedConv2D, makeFusedConv2D],
    [tf._FusedMatMul, makeFusedMatMul],
    [tf.Slice, makeSlice],
    [tf.AvgPoolGrad, makeAvgPoolGrad],
    [tf.MaxPool, makeMaxPool],
    [tf.Relu, makeRelu],
  ] as const) {
    const config = wrapped(name, make);
    if (config) configs.push(config);
  }
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  prepareSimdKernels(tf.findBackend('wasm') as BackendWasm | undefined);
  registerWinogradFlag();
  return configs.map((c) => c.kernelName);
}

/** tfjs's own configs of the kernels we wrap, captured once (before our first registration). */
const originals = new Map<string, tf.KernelConfig>();
const wrappers = new Set<tf.KernelFunc>();

/**
 * A config whose kernelFunc wraps tfjs's `name` on wasm (kept: setupFunc, so a re-initialized
 * backend still sets the original up). Undefined when tfjs has no such kernel.
 */
function wrapped(name: string, make: (original: any) => any): tf.KernelConfig | undefined {
  const current = tf.getKernel(name, 'wasm');
  if (current && !wrappers.has(current.kernelFunc)) originals.set(name, current);
  const original = originals.get(name);
  if (!original) return undefined;
  const kernelFunc = make(original.kernelFunc) as tf.KernelFunc;
  wrappers.add(kernelFunc);
  return { ...original, kernelFunc };
}
