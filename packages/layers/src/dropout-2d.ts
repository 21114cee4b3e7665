import type * as tf from '@tensorflow/tfjs-core';
import { checkDropoutProbability, dropout2d } from './functional/dropout';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface Dropout2dOptions {
  /** Probability of zeroing a channel. Default 0.5. */
  p?: number;
}

/** torch.nn.Dropout2d's positional order. */
const signature = layerSignature<Dropout2dOptions>()('Dropout2d', [], ['p']);

/**
 * Channel dropout, as torch.nn.Dropout2d: in train mode each sample's channel (a whole
 * `[H, W]` plane) is zeroed with probability p, the rest scaled by 1 / (1 - p); the identity in
 * eval mode. Mask `[N, 1, 1, C]` from `globalRandom()`, reproducible with `manualSeed`.
 *
 * Shape: `[N, H, W, C]` -> the same.
 */
export class Dropout2d extends Module<Required<Dropout2dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { p: 0.5, ...options };
    checkDropoutProbability('Dropout2d', config.p);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) this.outputShape(x.shape);
    return dropout2d(x, this.config.p, this.training);
  }

  outputShape(input: Shape): Shape {
    this.expectRank(input, 4, 'NHWC input');
    return [...input];
  }
}
