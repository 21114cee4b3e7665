import type * as tf from '@tensorflow/tfjs-core';
import { hardtanh } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface HardtanhOptions {
  /** Lower bound. Default -1. */
  minVal?: number;
  /** Upper bound. Default 1. */
  maxVal?: number;
}

/** torch.nn.Hardtanh's positional order. */
const signature = layerSignature<HardtanhOptions>()('Hardtanh', [], ['minVal', 'maxVal']);

/**
 * `clip(x, minVal, maxVal)`, as torch.nn.Hardtanh; gradient 0 at the bounds (PyTorch's).
 *
 * Shape: any -> the same.
 */
export class Hardtanh extends Elementwise<Required<HardtanhOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { minVal: -1, maxVal: 1, ...options };
    for (const key of ['minVal', 'maxVal'] as const) {
      if (typeof config[key] !== 'number' || !Number.isFinite(config[key])) {
        throw new Error(`Hardtanh: expected ${key} to be a finite number, received ${config[key]}`);
      }
    }
    if (!(config.maxVal > config.minVal)) {
      throw new Error(
        `Hardtanh: expected maxVal to be greater than minVal ${config.minVal}, received ${config.maxVal}`,
      );
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return hardtanh(x, this.config.minVal, this.config.maxVal);
  }
}
