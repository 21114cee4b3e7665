import type * as tf from '@tensorflow/tfjs-core';
import { type Padding2d, padGeometry, padWith } from './functional/padding';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { PROBE_INPUT } from './max-pool-2d';
import { Module, type Shape } from './module';

export interface ZeroPad2dOptions {
  /** One int for every side, or `[left, right, top, bottom]` (PyTorch's order); negative crops. */
  padding: Padding2d;
}

/** torch.nn.ZeroPad2d's positional order. */
const signature = layerSignature<ZeroPad2dOptions>()('ZeroPad2d', ['padding'], []);

/**
 * Zero padding of the spatial axes, as torch.nn.ZeroPad2d. Calls `pad` from the functional
 * forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, H + top + bottom, W + left + right, C]`.
 */
export class ZeroPad2d extends Module<ZeroPad2dOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    padGeometry('ZeroPad2d', PROBE_INPUT, options?.padding);
    super({ padding: options.padding });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return padWith(x, padGeometry(this.label, x.shape, this.config.padding), 'constant', 0);
  }

  outputShape(input: Shape): Shape {
    const [[t, b], [l, r]] = padGeometry(this.label, input, this.config.padding);
    return [input[0], input[1] + t + b, input[2] + l + r, input[3]];
  }
}
