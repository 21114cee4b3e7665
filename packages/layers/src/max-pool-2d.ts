import type * as tf from '@tensorflow/tfjs-core';
import { type MaxPool2dFunctionOptions, maxPoolWith, poolGeometry } from './functional/pooling';
import type { IntOrPair } from './internal/pairs';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface MaxPool2dOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair;
  /** Implicit -inf padding per side, at most half the kernel (PyTorch's rule). Default 0. */
  padding?: IntOrPair;
  /** Default 1. */
  dilation?: IntOrPair;
  /** Ceil instead of floor in the output size. Default false. */
  ceilMode?: boolean;
}

/** An input large enough that only the options are checked (construction-time validation). */
export const PROBE_INPUT: Shape = [1, 1 << 20, 1 << 20, 1];

/** torch.nn.MaxPool2d's positional order. */
const signature = layerSignature<MaxPool2dOptions>()(
  'MaxPool2d',
  ['kernelSize'],
  ['stride', 'padding', 'dilation', 'ceilMode'],
);

/**
 * Max pooling over NHWC input, as torch.nn.MaxPool2d (`ceilMode`, `dilation`; no indices).
 * Calls `maxPool2d` from the functional forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - d(k - 1) - 1) / s) + 1`
 * (ceil with `ceilMode`).
 */
export class MaxPool2d extends Module<Required<MaxPool2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = {
      padding: 0,
      dilation: 1,
      ceilMode: false,
      ...options,
      stride: options.stride ?? options.kernelSize,
    };
    poolGeometry('MaxPool2d', PROBE_INPUT, config);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return maxPoolWith(
      x,
      poolGeometry(this.label, x.shape, this.config as MaxPool2dFunctionOptions),
    );
  }

  outputShape(input: Shape): Shape {
    const [h, w] = poolGeometry(this.label, input, this.config as MaxPool2dFunctionOptions);
    return [input[0], h.out, w.out, input[3]];
  }
}
