import * as tf from '@tensorflow/tfjs-core';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface UnflattenOptions {
  /** The axis to split (negative counts from the end). */
  dim: number;
  /** The sizes it becomes; their product must equal the axis size (one may be -1). */
  unflattenedSize: number[];
}

/** torch.nn.Unflatten's positional order. */
const signature = layerSignature<UnflattenOptions>()('Unflatten', ['dim', 'unflattenedSize'], []);

/**
 * Splits one axis into several, as torch.nn.Unflatten. The axes are convkit's: undoing a
 * `Flatten` of NHWC features takes `unflattenedSize` `[H, W, C]`, where PyTorch writes
 * `(C, H, W)`.
 *
 * Shape: `[..., S, ...]` -> `[..., ...unflattenedSize, ...]`.
 */
export class Unflatten extends Module<UnflattenOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const { dim, unflattenedSize } = options ?? ({} as UnflattenOptions);
    if (!Number.isInteger(dim)) {
      throw new Error(`Unflatten: expected dim to be an integer, received ${JSON.stringify(dim)}`);
    }
    const sizes = Array.isArray(unflattenedSize) ? unflattenedSize : [];
    if (
      sizes.length === 0 ||
      !sizes.every((s) => Number.isInteger(s) && (s >= 1 || s === -1)) ||
      sizes.filter((s) => s === -1).length > 1
    ) {
      throw new Error(
        `Unflatten: expected unflattenedSize to be positive integers (at most one -1), received ${JSON.stringify(unflattenedSize)}`,
      );
    }
    super({ dim, unflattenedSize: [...sizes] });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, this.outputShape(x.shape));
  }

  outputShape(input: Shape): Shape {
    const { dim, unflattenedSize } = this.config;
    const axis = dim < 0 ? input.length + dim : dim;
    if (axis < 0 || axis >= input.length) {
      throw new Error(`${this.label}: dim ${dim} is out of range for input shape [${input}]`);
    }
    const known = unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const size = input[axis];
    const sizes = unflattenedSize.map((s) => (s === -1 ? size / known : s));
    if (sizes.reduce((a, b) => a * b, 1) !== size || !sizes.every(Number.isInteger)) {
      throw new Error(
        `${this.label}: unflattenedSize [${unflattenedSize}] does not multiply to ${size}, the size of axis ${dim} of input shape [${input}]`,
      );
    }
    return [...input.slice(0, axis), ...sizes, ...input.slice(axis + 1)];
  }
}
