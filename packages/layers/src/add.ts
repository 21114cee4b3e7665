import * as tf from '@tensorflow/tfjs-core';
import { Module, type Shape } from './module';

/**
 * The elementwise sum of its inputs, for residual connections (`out += identity` in
 * torchvision's ResNet). Stateless: the blocks hold their branches as fields, so their
 * state-dict keys stay torchvision's.
 *
 * Shape: `S, S, ...` -> `S` (every input the same shape; no broadcasting, as the in-place add of
 * a residual block).
 */
export class Add extends Module<Record<string, never>> {
  constructor() {
    super({});
  }

  forward(...inputs: tf.Tensor[]): tf.Tensor {
    this.outputShape(...inputs.map((t) => t.shape));
    return inputs.length === 1 ? tf.clone(inputs[0]) : tf.addN(inputs);
  }

  outputShape(...inputs: Shape[]): Shape {
    if (inputs.length === 0) {
      throw new Error(`${this.label}: expected at least one input, received none`);
    }
    const [first, ...rest] = inputs;
    const bad = rest.findIndex((s) => !tf.util.arraysEqual(s, first));
    if (bad >= 0) {
      throw new Error(
        `${this.label}: expected every input to have the shape of input 0 [${first}], received [${rest[bad]}] for input ${bad + 1}`,
      );
    }
    return [...first];
  }
}
