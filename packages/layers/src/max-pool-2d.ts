import * as tf from '@tensorflow/tfjs-core';
import { convOutputSize, type IntOrPair, toPair } from './internal/pairs';
import { Module, type Shape } from './module';

export interface MaxPool2dOptions {
  kernelSize: IntOrPair;
  /** Default: `kernelSize`. */
  stride?: IntOrPair;
  /** Implicit -inf padding per side, at most half the kernel (PyTorch's rule). Default 0. */
  padding?: IntOrPair;
}

/**
 * Max pooling over NHWC input, as torch.nn.MaxPool2d (floor mode, dilation 1).
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = floor((H + 2p - k) / s) + 1`.
 */
export class MaxPool2d extends Module<MaxPool2dOptions> {
  private readonly kernel: [number, number];
  private readonly strides: [number, number];
  private readonly pads: [number, number];

  constructor(options: MaxPool2dOptions) {
    super({ ...options });
    const where = 'MaxPool2d';
    this.kernel = toPair(where, 'kernelSize', options.kernelSize);
    this.strides = toPair(where, 'stride', options.stride ?? options.kernelSize);
    this.pads = toPair(where, 'padding', options.padding ?? 0, 0);
    if (this.pads.some((p, i) => p > this.kernel[i] / 2)) {
      throw new Error(
        `${where}: padding should be at most half of the kernel size, received padding ${JSON.stringify(options.padding)} for kernel ${JSON.stringify(options.kernelSize)}`,
      );
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) this.outputShape(x.shape);
    const [ph, pw] = this.pads;
    const pad =
      ph === 0 && pw === 0
        ? 'valid'
        : ([
            [0, 0],
            [ph, ph],
            [pw, pw],
            [0, 0],
          ] as const);
    // tfjs's typings only list explicit pads for conv; its maxPool kernel ignores padded cells.
    return tf.maxPool(x as tf.Tensor4D, this.kernel, this.strides, pad as unknown as 'valid');
  }

  outputShape(input: Shape): Shape {
    this.expectRank(input, 4, 'NHWC input');
    const [n, h, w, c] = input;
    const out = [h, w].map((size, i) => {
      if (size + 2 * this.pads[i] < this.kernel[i]) {
        throw new Error(
          `${this.label}: kernel ${this.kernel[0]}x${this.kernel[1]} is larger than the padded input on axis ${i === 0 ? 'H' : 'W'}; input shape [${input}]`,
        );
      }
      return convOutputSize(size, this.kernel[i], this.strides[i], this.pads[i], this.pads[i], 1);
    });
    return [n, out[0], out[1], c];
  }
}
