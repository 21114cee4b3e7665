import type * as tf from '@tensorflow/tfjs-core';
import { pixelUnshuffle, pixelUnshuffleShape } from './functional/pixel-shuffle';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface PixelUnshuffleOptions {
  /** The factor r by which height and width shrink. */
  downscaleFactor: number;
}

/** torch.nn.PixelUnshuffle's positional order. */
const signature = layerSignature<PixelUnshuffleOptions>()(
  'PixelUnshuffle',
  ['downscaleFactor'],
  [],
);

/**
 * The inverse of PixelShuffle, as torch.nn.PixelUnshuffle: each r×r block becomes r² channels,
 * in PyTorch's channel order (`c·r² + i·r + j`).
 *
 * Shape: `[N, H·r, W·r, C]` -> `[N, H, W, C·r²]`.
 */
export class PixelUnshuffle extends Module<PixelUnshuffleOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
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
