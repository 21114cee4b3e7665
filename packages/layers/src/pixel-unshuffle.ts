import type * as tf from '@tensorflow/tfjs-core';
import { pixelUnshuffle, pixelUnshuffleShape } from './functional/pixel-shuffle';
import { Module, type Shape } from './module';

export interface PixelUnshuffleOptions {
  /** The factor r by which height and width shrink. */
  downscaleFactor: number;
}

/**
 * The inverse of PixelShuffle, as torch.nn.PixelUnshuffle: each r×r block becomes r² channels,
 * in PyTorch's channel order (`c·r² + i·r + j`).
 *
 * Shape: `[N, H·r, W·r, C]` -> `[N, H, W, C·r²]`.
 */
export class PixelUnshuffle extends Module<PixelUnshuffleOptions> {
  constructor(options: PixelUnshuffleOptions) {
    const r = options?.downscaleFactor;
    pixelUnshuffleShape('PixelUnshuffle', [1, r, r, 1], r);
    super({ downscaleFactor: r });
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    return pixelUnshuffle(x, this.config.downscaleFactor);
  }

  outputShape(input: Shape): Shape {
    return pixelUnshuffleShape(this.label, input, this.config.downscaleFactor);
  }
}
