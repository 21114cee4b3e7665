import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { backpropInputByConvolution, rotateFilter } from './conv2d-backprop-input';
import { type ConvAttrs, type Info, nhwcConvInfo, withScope } from './kernel-scope';

/**
 * `DepthwiseConv2dNativeBackpropInput` on wasm (tfjs-backend-wasm has none).
 *
 * As for a regular convolution (see conv2d-backprop-input.ts), the input gradient is a
 * convolution of the zero-inserted dy with the spatially rotated filter, here a depthwise one:
 * the [kh, kw, C, M] filter is laid out as a multiplier-1 depthwise filter over the C*M
 * channels of dy (channel c*M + m), one XNNPACK `DepthwiseConv2dNative` (stride 1, the
 * forward's dilation) gives [N, H, W, C*M], and for M > 1 a `Sum` over the multiplier axis
 * gives dx. Stride > 1 uses zero insertion (s^2 the minimal FLOPs, still vectorized).
 */
export function depthwiseConv2dNativeBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const convAttrs = attrs as unknown as ConvAttrs & {
    inputShape: [number, number, number, number];
  };
  const { inputShape } = convAttrs;
  return withScope(backend, (scope) => {
    const dy = inputs.dy as Info;
    const filter = inputs.filter as Info;
    const info = nhwcConvInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      convAttrs,
      true,
    );
    const rotated = rotateFilter(scope, filter, true);
    return backpropInputByConvolution(scope, dy, rotated, info, true);
  });
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc,
};
