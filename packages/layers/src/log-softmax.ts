import type * as tf from '@tensorflow/tfjs-core';
import { logSoftmax, resolveDim } from './functional/activations';
import { Elementwise } from './internal/elementwise';
import type { Shape } from './module';

export interface LogSoftmaxOptions {
  /**
   * The axis, counted on convkit's NHWC tensors; negative counts from the end. Default -1: the
   * channels, which is PyTorch's `dim=1` on NCHW (PyTorch's `dim=2`, H, is convkit's 1).
   */
  dim?: number;
}

/**
 * log(softmax(x)), computed stably, along `dim`, as torch.nn.LogSoftmax.
 *
 * Shape: any (rank > |dim|) -> the same.
 */
export class LogSoftmax extends Elementwise<Required<LogSoftmaxOptions>> {
  constructor(options: LogSoftmaxOptions = {}) {
    const config = { dim: -1, ...options };
    if (!Number.isInteger(config.dim)) {
      throw new Error(`LogSoftmax: expected dim to be an integer, received ${config.dim}`);
    }
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkDim(x.shape);
    return logSoftmax(x, this.config.dim);
  }

  override outputShape(input: Shape): Shape {
    this.checkDim(input);
    return [...input];
  }

  private checkDim(shape: Shape): void {
    try {
      resolveDim('', this.config.dim, shape.length);
    } catch {
      throw new Error(
        `${this.label}: dim ${this.config.dim} is out of range for input shape [${shape}] (rank ${shape.length})`,
      );
    }
  }
}
