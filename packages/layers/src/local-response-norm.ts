import type * as tf from '@tensorflow/tfjs-core';
import { localResponseNorm } from './functional/normalization';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface LocalResponseNormOptions {
  /** Channels in the window (PyTorch's window: floor(size / 2) before, floor((size - 1) / 2) after). */
  size: number;
  /** Default 1e-4 (divided by size, as PyTorch). */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 1. */
  k?: number;
}

/** torch.nn.LocalResponseNorm's positional order. */
const signature = layerSignature<LocalResponseNormOptions>()(
  'LocalResponseNorm',
  ['size'],
  ['alpha', 'beta', 'k'],
);

/**
 * Local response normalization across channels (AlexNet), exactly torch.nn.LocalResponseNorm:
 * `y_c = x_c / (k + alpha / size * sum of x_c'^2 over the window)^beta`, channels beyond the
 * edges counting as zeros.
 *
 * Shape: `[N, ..., C]` -> the same (rank >= 3; NHWC for images).
 */
export class LocalResponseNorm extends Module<Required<LocalResponseNormOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { alpha: 1e-4, beta: 0.75, k: 1, ...options };
    if (!Number.isInteger(config.size) || config.size < 1) {
      throw new Error(
        `LocalResponseNorm: expected size to be a positive integer, received ${config.size}`,
      );
    }
    for (const key of ['alpha', 'beta', 'k'] as const) {
      if (typeof config[key] !== 'number' || !Number.isFinite(config[key])) {
        throw new Error(
          `LocalResponseNorm: expected ${key} to be a finite number, received ${config[key]}`,
        );
      }
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 3) this.outputShape(x.shape);
    const { size, alpha, beta, k } = this.config;
    return localResponseNorm(x, size, alpha, beta, k);
  }

  outputShape(input: Shape): Shape {
    if (input.length < 3) {
      throw new Error(
        `${this.label}: expected input of rank 3 or more ([N, ..., C]), received shape [${input}]`,
      );
    }
    return [...input];
  }
}
