import type * as tf from '@tensorflow/tfjs-core';
import { checkDropoutProbability, dropout1d } from './functional/dropout';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';

export interface Dropout1dOptions {
  /** Probability of zeroing a channel. Default 0.5. */
  p?: number;
}

/** torch.nn.Dropout1d's positional order. */
const signature = layerSignature<Dropout1dOptions>()('Dropout1d', [], ['p']);

/**
 * Channel dropout for sequences, as torch.nn.Dropout1d: in train mode each sample's channel
 * (the whole sequence of it) is zeroed with probability p, the rest scaled by 1 / (1 - p); the
 * identity in eval mode. convkit sequences are channels last: `[N, L, C]` (PyTorch's
 * `[N, C, L]`), or unbatched `[L, C]`. Mask `[N, 1, C]` from `globalRandom()`, reproducible
 * with `manualSeed`.
 *
 * Shape: `[N, L, C]` -> the same (or `[L, C]` -> the same).
 */
export class Dropout1d extends Module<Required<Dropout1dOptions>> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { p: 0.5, ...options };
    checkDropoutProbability('Dropout1d', config.p);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    return dropout1d(x, this.config.p, this.training);
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 3 && input.length !== 2) {
      throw new Error(
        `${this.label}: expected a rank-3 [N, L, C] or rank-2 [L, C] input, received shape [${input}]`,
      );
    }
    return [...input];
  }
}
