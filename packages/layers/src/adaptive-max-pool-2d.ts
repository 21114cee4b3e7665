import type * as tf from '@tensorflow/tfjs-core';
import { type AdaptiveSize, adaptiveGeometry, adaptiveMaxPoolWith } from './functional/pooling';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { PROBE_INPUT } from './max-pool-2d';
import { Module, type Shape } from './module';

export interface AdaptiveMaxPool2dOptions {
  /** `[outH, outW]` or one int; null keeps that input size. */
  outputSize: AdaptiveSize;
}

/** torch.nn.AdaptiveMaxPool2d's positional order. */
const signature = layerSignature<AdaptiveMaxPool2dOptions>()(
  'AdaptiveMaxPool2d',
  ['outputSize'],
  [],
);

/**
 * Adaptive max pooling, as torch.nn.AdaptiveMaxPool2d (no indices): output cell i takes the
 * maximum of input rows floor(i * H / outH) to ceil((i + 1) * H / outH). Calls
 * `adaptiveMaxPool2d` from the functional forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, outH, outW, C]`.
 */
export class AdaptiveMaxPool2d extends Module<AdaptiveMaxPool2dOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    adaptiveGeometry('AdaptiveMaxPool2d', PROBE_INPUT, options?.outputSize);
    super({ outputSize: options.outputSize });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return adaptiveMaxPoolWith(x, adaptiveGeometry(this.label, x.shape, this.config.outputSize));
  }

  outputShape(input: Shape): Shape {
    const [h, w] = adaptiveGeometry(this.label, input, this.config.outputSize);
    return [input[0], h, w, input[3]];
  }
}
