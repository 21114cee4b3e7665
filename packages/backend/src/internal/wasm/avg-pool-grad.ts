import * as tf from '@tensorflow/tfjs-core';
import { type Info, type KernelFunc, zeroHeap } from './kernel-scope';

/**
 * `AvgPoolGrad` on wasm, wrapped: tfjs's visits, for every input pixel, every filter tap and
 * tests whether an output window holds it; the 1x1 stride-2 pooling of a CIFAR ResNet's
 * option-A shortcut took 11 ms a call for 0.5 M outputs. Here each output's gradient is
 * added once into the input pixels of its window, channels innermost (contiguous), then
 * scaled by 1 / (filter area) as tfjs does (also over padding). Channels-last float32 only;
 * anything else goes to tfjs's kernel.
 */
export function makeAvgPoolGrad(original: KernelFunc): KernelFunc {
  return (args) => {
    const { backend } = args;
    const dy = args.inputs.dy as Info;
    const input = args.inputs.input as Info;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'valid' | 'same' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    if (dy.dtype !== 'float32' || input.shape.length !== 4) return original(args);
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    if (info.dataFormat !== 'channelsLast') return original(args);
    const dx = backend.makeOutput(input.shape, 'float32') as Info;
    const out = backend.typedArrayFromHeap(dx as never) as Float32Array;
    const grad = backend.typedArrayFromHeap(dy as never) as Float32Array;
    zeroHeap(backend, dx);
    addWindows(grad, out, info, dy.shape as number[]);
    // A 1x1 window (a strided subsample: option-A shortcuts) has nothing to average; the loop
    // over the whole input took most of this kernel's 5 ms in a CIFAR ResNet-20 step.
    const scale = 1 / (info.filterHeight * info.filterWidth);
    if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= scale;
    return dx;
  };
}

/** out[n, p*sh + a - top, q*sw + e - left, :] += dy[n, p, q, :] over every window tap inside. */
function addWindows(
  dy: Float32Array,
  out: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  dyShape: number[],
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const [, oh, ow] = dyShape;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < oh; p++) {
      for (let q = 0; q < ow; q++) {
        const from = ((b * oh + p) * ow + q) * c;
        for (let a = 0; a < kh; a++) {
          const r = p * sh + a - top;
          if (r < 0 || r >= h) continue;
          for (let e = 0; e < kw; e++) {
            const col = q * sw + e - left;
            if (col < 0 || col >= w) continue;
            const to = ((b * h + r) * w + col) * c;
            for (let k = 0; k < c; k++) out[to + k] += dy[from + k];
          }
        }
      }
    }
  }
}
