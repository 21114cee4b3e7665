import type * as tf from '@tensorflow/tfjs-core';
import { checkDropoutProbability, dropout } from './functional/dropout';
import { Elementwise } from './internal/elementwise';
import { type ArgumentsOf, layerSignature } from './layer-arguments';

export interface DropoutOptions {
  /** Probability of zeroing an element. Default 0.5. */
  p?: number;
}

/** torch.nn.Dropout's positional order. */
const signature = layerSignature<DropoutOptions>()('Dropout', [], ['p']);

/**
 * In train mode zeroes each element with probability p and scales the rest by 1 / (1 - p)
 * (inverted dropout, as torch.nn.Dropout); the identity in eval mode. The mask comes from
 * `globalRandom()` (@convkit/backend), so `manualSeed(n)` reproduces it on every backend (not
 * PyTorch's stream).
 *
 * Shape: any -> the same.
 */
export class Dropout extends Elementwise<Required<DropoutOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { p: 0.5, ...options };
    checkDropoutProbability('Dropout', config.p);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dropout(x, this.config.p, this.training);
  }
}
