import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type Info, NCHW_TO_NHWC, pair, view, withScope } from './kernel-scope';

/**
 * `Conv2DBackpropFilter` on wasm (tfjs-backend-wasm has none): the gradient of a 2-D
 * convolution with respect to its HWIO filter, computed as one XNNPACK forward convolution.
 *
 * With xpad the zero-padded input, stride s and dilation d:
 *
 *   dW[kh, kw, ci, co] = sum_{n, p, q} xpad[n, p*s + kh*d, q*s + kw*d, ci] * dy[n, p, q, co]
 *
 * which is a convolution of X' = xpad transposed to [Ci, H, W, N] (batch Ci, channels N) with
 * the filter F' = dy transposed to [Oh, Ow, N, Co], stride d and dilation s (the roles swap),
 * giving [Ci, kh, kw, Co], transposed to [kh, kw, Ci, Co]. The padding is passed to XNNPACK
 * (implicit zeros, no copy): top/left as in the forward pass, bottom/right chosen so that the
 * padded height is exactly (Oh-1)*s + (kh-1)*d + 1, which makes the output exactly kh x kw;
 * where that is less than the forward's bottom pad (rows the forward never read, e.g. H not
 * aligned with the stride) x is cropped instead, and where it is more (dimRoundingMode 'ceil')
 * the extra rows are implicit zeros. Handles 'same', 'valid', numeric and explicit
 * (asymmetric) pads, any dimRoundingMode, NCHW (by transposing to NHWC) and, beyond what tfjs
 * passes, a `dilations` attribute; XNNPACK accepts stride and dilation > 1 together, so the
 * swapped convolution needs no special case.
 *
 * Cost: the FLOPs of the forward convolution plus three transposes (x, dy, the result).
 */
export function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}): Info {
  const { inputs, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape, dilations } = attrs as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | number[][];
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
    dilations?: number | [number, number];
  };
  return withScope(backend, (scope) => {
    let x = inputs.x as Info;
    let dy = inputs.dy as Info;
    let $pad = pad;
    if (dataFormat === 'NCHW') {
      x = scope.transpose(x, NCHW_TO_NHWC);
      dy = scope.transpose(dy, NCHW_TO_NHWC);
      if (Array.isArray(pad)) $pad = NCHW_TO_NHWC.map((i) => pad[i]);
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      dilations ?? 1,
      $pad as any,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const [kh, kw, ci, co] = filterShape;
    const [n, h, w] = x.shape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    // dy's own extent (see conv2d-backprop-input.ts: with dimRoundingMode 'ceil' tfjs's
    // gradient passes a dy one row/column larger than convInfo recomputes).
    const [, oh, ow] = dy.shape;
    const needH = (oh - 1) * sh + (kh - 1) * dh + 1;
    const needW = (ow - 1) * sw + (kw - 1) * dw + 1;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const cropped = scope.cropNegative(x, { top, left, bottom: needH - top - h, right: needW - left - w });
    if (n === 0 || oh <= 0 || ow <= 0 || cropped.x.shape[1] === 0 || cropped.x.shape[2] === 0) {
      // Every tap of every window falls into the padding: the gradient is zero.
      return scope.alloc([kh, kw, ci, co], 'float32', true);
    }
    const xt = scope.transpose(cropped.x, [3, 1, 2, 0]); // [Ci, H', W', N]
    const dyt = scope.transpose(dy, [1, 2, 0, 3]); // [Oh, Ow, N, Co]
    const out = scope.conv2d(xt, dyt, [dh, dw], [sh, sw], cropped.pads); // [Ci, kh, kw, Co]
    if (ci === 1) return view(out, [kh, kw, ci, co]);
    return scope.transpose(out, [1, 2, 0, 3]);
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
