import * as tf from '@tensorflow/tfjs-core';
import { resolveDim } from './functional/activations';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface ConcatOptions {
  /** The axis to join along, on convkit's tensors. Default -1: channels (PyTorch's dim 1). */
  dim?: number;
}

/** torch.cat's dim, positionally. */
const signature = layerSignature<ConcatOptions>()('Concat', [], ['dim']);

/**
 * Joins its inputs along `dim` (channels by default), as `torch.cat(outputs, 1)` at the end of
 * a torchvision Inception block.
 *
 * It takes tensors and holds no branches: torchvision's blocks keep each branch as their own
 * attribute (`branch1x1.conv.weight`, `branch5x5_1.bn.running_mean`) and concatenate in
 * `forward`, so a block written the same way here keeps torchvision's state-dict keys; a Concat
 * owning the branches would add a level to every key.
 *
 * Shape: `[N, H, W, C1], [N, H, W, C2], ...` -> `[N, H, W, C1 + C2 + ...]` (all axes but dim
 * equal).
 */
export class Concat extends Module<Required<ConcatOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { dim: -1, ...options };
    if (!Number.isInteger(config.dim)) {
      throw new Error(`Concat: expected dim to be an integer, received ${config.dim}`);
    }
    super(config);
  }

  forward(...inputs: tf.Tensor[]): tf.Tensor {
    this.outputShape(...inputs.map((t) => t.shape));
    const axis = resolveDim('Concat', this.config.dim, inputs[0].rank);
    return tf.concat(inputs, axis);
  }

  outputShape(...inputs: Shape[]): Shape {
    if (inputs.length === 0) {
      throw new Error(`${this.label}: expected at least one input, received none`);
    }
    const rank = inputs[0].length;
    let axis: number;
    try {
      axis = resolveDim('', this.config.dim, rank);
    } catch {
      throw new Error(
        `${this.label}: dim ${this.config.dim} is out of range for input 0 of shape [${inputs[0]}] (rank ${rank})`,
      );
    }
    const out = [...inputs[0]];
    for (let i = 1; i < inputs.length; i++) {
      const s = inputs[i];
      if (s.length !== rank || s.some((d, a) => a !== axis && d !== inputs[0][a])) {
        const expected = inputs[0].map((d, a) => (a === axis ? '*' : d));
        throw new Error(
          `${this.label}: expected input ${i} to match input 0 on every axis but ${axis} ([${expected}]), received shape [${s}]`,
        );
      }
      out[axis] += s[axis];
    }
    return out;
  }
}
