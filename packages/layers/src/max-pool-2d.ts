import type * as tf from '@tensorflow/tfjs-core';
import {
  type MaxPool2dFunctionOptions,
  maxPoolIndicesWith,
  maxPoolWith,
  poolGeometry,
} from './functional/pooling';
import type { IntOrPair } from './int-or-pair';
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
  /**
   * `forward` returns `[output, indices]` (PyTorch's `return_indices`), the int32 indices in
   * PyTorch's flat-per-channel convention, for `MaxUnpool2d`. Default false.
   */
  returnIndices?: boolean;
}

/** An input large enough that only the options are checked (construction-time validation). */
export const PROBE_INPUT: Shape = [1, 1 << 20, 1 << 20, 1];

/** torch.nn.MaxPool2d's positional order. */
const signature = layerSignature<MaxPool2dOptions>()(
  'MaxPool2d',
  ['kernelSize'],
  ['stride', 'padding', 'dilation', 'returnIndices', 'ceilMode'],
);

/**
 * Max pooling over NHWC input, as torch.nn.MaxPool2d (`ceilMode`, `dilation`,
 * `returnIndices`). Calls `maxPool2d` from the functional forms.
 *
 * With `returnIndices`, `forward` returns the pair `[output, indices]` as PyTorch does (typed as
 * a tensor, so the common case needs no narrowing; `forwardWithIndices` is the typed form). The
 * indices say, per sample and channel, which input cell `h·W + w` held each maximum: PyTorch's
 * numbers, in NHWC order.
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - d(k - 1) - 1) / s) + 1`
 * (ceil with `ceilMode`; see `convOutputSize`).
 */
export class MaxPool2d extends Module<Required<MaxPool2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = {
      padding: 0,
      dilation: 1,
      ceilMode: false,
      returnIndices: false,
      ...options,
      stride: options.stride ?? options.kernelSize,
    };
    if (typeof config.returnIndices !== 'boolean') {
      throw new Error(
        `MaxPool2d: expected returnIndices to be a boolean, received ${JSON.stringify(config.returnIndices)}`,
      );
    }
    poolGeometry('MaxPool2d', PROBE_INPUT, config);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.config.returnIndices) {
      // PyTorch returns (output, indices); Module.forward is typed as a tensor.
      return this.forwardWithIndices(x) as unknown as tf.Tensor;
    }
    return maxPoolWith(x, this.geometry(x.shape));
  }

  /** `[output, indices]` whatever `returnIndices` says (indices: int32, PyTorch's numbers). */
  forwardWithIndices(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const geometry = this.geometry(x.shape);
    return [maxPoolWith(x, geometry), maxPoolIndicesWith(x, geometry)];
  }

  outputShape(input: Shape): Shape {
    const [h, w] = this.geometry(input);
    return [input[0], h.out, w.out, input[3]];
  }

  private geometry(input: Shape) {
    return poolGeometry(this.label, input, this.config as MaxPool2dFunctionOptions);
  }
}
