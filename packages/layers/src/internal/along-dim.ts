import { resolveDim } from '../functional/activations';
import { Module, type Shape } from '../module';

export interface AlongDimOptions {
  /**
   * The axis, counted on convkit's NHWC tensors; negative counts from the end. Default -1: the
   * channels, which is PyTorch's `dim=1` on NCHW (PyTorch's `dim=2`, H, is convkit's 1).
   */
  dim?: number;
}

/** Base of Softmax and LogSoftmax: a shape-preserving map along one validated axis. */
export abstract class AlongDim extends Module<Required<AlongDimOptions>> {
  constructor(layer: string, options: AlongDimOptions) {
    const config = { dim: -1, ...options };
    if (!Number.isInteger(config.dim)) {
      throw new Error(`${layer}: expected dim to be an integer, received ${config.dim}`);
    }
    super(config);
  }

  outputShape(input: Shape): Shape {
    this.checkDim(input);
    return [...input];
  }

  protected checkDim(shape: Shape): void {
    try {
      resolveDim('', this.config.dim, shape.length);
    } catch {
      throw new Error(
        `${this.label}: dim ${this.config.dim} is out of range for input shape [${shape}] (rank ${shape.length})`,
      );
    }
  }
}
