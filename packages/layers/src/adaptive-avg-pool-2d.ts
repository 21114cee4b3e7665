import type * as tf from '@tensorflow/tfjs-core';
import { type AdaptiveSize, adaptiveAvgPoolWith, adaptiveGeometry } from './functional/pooling';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { PROBE_INPUT } from './max-pool-2d';
import { Module, type Shape } from './module';

export interface AdaptiveAvgPool2dOptions {
  /** `[outH, outW]` or one int; null keeps that input size. */
  outputSize: AdaptiveSize;
}

/** torch.nn.AdaptiveAvgPool2d's positional order. */
const signature = layerSignature<AdaptiveAvgPool2dOptions>()(
  'AdaptiveAvgPool2d',
  ['outputSize'],
  [],
);

/**
 * Adaptive average pooling, as torch.nn.AdaptiveAvgPool2d: output cell i averages input rows
 * floor(i * H / outH) to ceil((i + 1) * H / outH) (bins may overlap). Calls
 * `adaptiveAvgPool2d` from the functional forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, outH, outW, C]`.
 */
export class AdaptiveAvgPool2d extends Module<AdaptiveAvgPool2dOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    adaptiveGeometry('AdaptiveAvgPool2d', PROBE_INPUT, options?.outputSize);
    super({ outputSize: options.outputSize });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return adaptiveAvgPoolWith(x, adaptiveGeometry(this.label, x.shape, this.config.outputSize));
  }

  outputShape(input: Shape): Shape {
    const [h, w] = adaptiveGeometry(this.label, input, this.config.outputSize);
    return [input[0], h, w, input[3]];
  }
}
