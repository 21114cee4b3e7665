import * as tf from '@tensorflow/tfjs-core';
import { prelu } from './functional/activations';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { Param } from './param';

export interface PReLUOptions {
  /** 1 (one slope shared by every channel) or the channel count C. Default 1. */
  numParameters?: number;
  /** The initial slope. Default 0.25. */
  init?: number;
}

/** torch.nn.PReLU's positional order. */
const signature = layerSignature<PReLUOptions>()('PReLU', [], ['numParameters', 'init']);

/**
 * x for x > 0, `weight * x` otherwise with a learned slope, as torch.nn.PReLU; a per-channel
 * slope applies to the last axis (channels of NHWC, PyTorch's dim 1 on NCHW).
 *
 * Shape: `[N, ..., C]` -> the same (any shape when `numParameters` is 1).
 * Parameters: `weight` `[numParameters]` (layout `vector`, as PyTorch), filled with `init`.
 */
export class PReLU extends Module<Required<PReLUOptions>> {
  weight: Param;

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { numParameters: 1, init: 0.25, ...options };
    if (!Number.isInteger(config.numParameters) || config.numParameters < 1) {
      throw new Error(
        `PReLU: expected numParameters to be a positive integer, received ${config.numParameters}`,
      );
    }
    if (typeof config.init !== 'number' || !Number.isFinite(config.init)) {
      throw new Error(`PReLU: expected init to be a finite number, received ${config.init}`);
    }
    super(config);
    this.weight = new Param(tf.fill([config.numParameters], config.init), 'vector');
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.config.numParameters > 1 && x.shape.at(-1) !== this.config.numParameters) {
      this.outputShape(x.shape);
    }
    return prelu(x, this.weight.variable);
  }

  outputShape(input: Shape): Shape {
    const n = this.config.numParameters;
    if (n > 1 && (input.length < 2 || input.at(-1) !== n)) {
      throw new Error(
        `${this.label}: expected input with ${n} channels on the last axis (shape [N, ..., ${n}]), received shape [${input}]`,
      );
    }
    return [...input];
  }
}
