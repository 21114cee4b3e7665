import * as tf from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './internal/wasm/batch-mat-mul';
import { makeBiasAdd, makeLeadingSum } from './internal/wasm/bias-add-and-sum';
import { conv2DBackpropFilterConfig } from './internal/wasm/conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './internal/wasm/conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './internal/wasm/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './internal/wasm/depthwise-conv2d-backprop-input';
import { identityConfig, makeCast } from './internal/wasm/identity';
import { maxPoolGradConfig } from './internal/wasm/max-pool-grad';
import { unsortedSegmentSumConfig } from './internal/wasm/unsorted-segment-sum';

/**
 * The kernels convkit provides on tfjs-backend-wasm (4.22) so that conv nets train there,
 * correctly and fast. Each composes the wasm backend's own XNNPACK kernels or loops over the
 * wasm heap; the file of each explains its method.
 *
 * - `Conv2DBackpropFilter` (missing): one XNNPACK convolution of the transposed input with
 *   the transposed dy (stride and dilation swap roles).
 * - `Conv2DBackpropInput` (replaced: tfjs's is a scalar loop): one XNNPACK convolution of the
 *   (zero-inserted, for stride > 1) dy with the rotated, in/out-swapped filter.
 * - `DepthwiseConv2dNativeBackpropInput` (missing): the same with a depthwise convolution.
 * - `DepthwiseConv2dNativeBackpropFilter` (missing): a float64-accumulating loop.
 * - `MaxPoolGrad` (replaced: tfjs's drops the gradient of all-negative windows): first max
 *   per window, as tfjs-cpu and PyTorch.
 * - `UnsortedSegmentSum` (missing; `tf.gather`'s gradient): one pass over the heap.
 * - `BatchMatMul` (wrapped: tfjs's runs transposed operands through a scalar loop, which
 *   every dense layer's backward pass does): explicit transposes, then XNNPACK.
 * - `Add` and `Sum` (wrapped, for a bias and its gradient only: tfjs's broadcast add and its
 *   transpose-then-reduce are slow with few channels): SIMD over lcm(C, 4)-float blocks.
 * - `Identity` (replaced: tfjs's copies the buffer on every clone and every tensor a gradient
 *   saves) and `Cast` to the same dtype (wrapped; every ReLU gradient does one): share the
 *   buffer, as the cpu backend does.
 */
const CONFIGS: tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  maxPoolGradConfig,
  unsortedSegmentSumConfig,
  identityConfig,
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
  ] as const) {
    const config = wrapped(name, make);
    if (config) configs.push(config);
  }
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
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
