import type * as tf from '@tensorflow/tfjs-core';
import { avgPoolGeometry, avgPoolWith } from './functional/pooling';
import type { IntOrPair } from './int-or-pair';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { PROBE_INPUT } from './max-pool-2d';
import { Module, type Shape } from './module';

export interface AvgPool2dOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair;
  /** Implicit zero padding per side, at most half the kernel. Default 0. */
  padding?: IntOrPair;
  /** Ceil instead of floor in the output size. Default false. */
  ceilMode?: boolean;
  /** Count the zero padding in each window's divisor. Default true. */
  countIncludePad?: boolean;
  /** Divide every window by this instead. Default null (none). */
  divisorOverride?: number | null;
}

/** torch.nn.AvgPool2d's positional order. */
const signature = layerSignature<AvgPool2dOptions>()(
  'AvgPool2d',
  ['kernelSize'],
  ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'],
);

/**
 * Average pooling over NHWC input, as torch.nn.AvgPool2d. Calls `avgPool2d` from the
 * functional forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - k) / s) + 1` (ceil with
 * `ceilMode`; windows that start in the right padding are dropped, as in PyTorch).
 */
export class AvgPool2d extends Module<Required<AvgPool2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = {
      padding: 0,
      ceilMode: false,
      countIncludePad: true,
      divisorOverride: null,
      ...options,
      stride: options.stride ?? options.kernelSize,
    };
    avgPoolGeometry('AvgPool2d', PROBE_INPUT, config);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return avgPoolWith(x, avgPoolGeometry(this.label, x.shape, this.config), this.config);
  }

  outputShape(input: Shape): Shape {
    const [h, w] = avgPoolGeometry(this.label, input, this.config);
    return [input[0], h.out, w.out, input[3]];
  }
}
