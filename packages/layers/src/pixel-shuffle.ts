import type * as tf from '@tensorflow/tfjs-core';
import { pixelShuffle, pixelShuffleShape } from './functional/pixel-shuffle';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface PixelShuffleOptions {
  /** The factor r by which height and width grow. */
  upscaleFactor: number;
}

/** torch.nn.PixelShuffle's positional order. */
const signature = layerSignature<PixelShuffleOptions>()('PixelShuffle', ['upscaleFactor'], []);

/**
 * Sub-pixel upsampling, as torch.nn.PixelShuffle (ESPCN): channel `c·r² + i·r + j` moves to
 * channel c at offset (i, j) of each r×r block — PyTorch's channel order, so weights of a
 * preceding conv load unchanged.
 *
 * Shape: `[N, H, W, C·r²]` -> `[N, H·r, W·r, C]`.
 */
export class PixelShuffle extends Module<PixelShuffleOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    pixelShuffleShape('PixelShuffle', [1, 1, 1, 0], options?.upscaleFactor);
    super({ upscaleFactor: options.upscaleFactor });
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    return pixelShuffle(x, this.config.upscaleFactor);
  }

  outputShape(input: Shape): Shape {
    return pixelShuffleShape(this.label, input, this.config.upscaleFactor);
  }
}
