import type * as tf from '@tensorflow/tfjs-core';
import {
  type InterpolateOptions,
  interpolateGeometry,
  interpolateWith,
} from './functional/interpolate';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { PROBE_INPUT } from './max-pool-2d';
import { Module, type Shape } from './module';

export type UpsampleOptions = InterpolateOptions;

/** torch.nn.Upsample's positional order. */
const signature = layerSignature<UpsampleOptions>()(
  'Upsample',
  [],
  ['size', 'scaleFactor', 'mode', 'alignCorners'],
);

/**
 * Resize the spatial axes, as torch.nn.Upsample: `size` or `scaleFactor`, mode 'nearest'
 * (PyTorch's floor(dst * scale) rule) or 'bilinear' (`alignCorners` true or false). Forward and
 * gradient equal PyTorch's (fixed indices and weights computed as PyTorch does, applied with
 * gathers; tfjs's resize kernels are not used). Calls `interpolate` from the functional forms.
 *
 * Shape: `[N, H, W, C]` -> `[N, H', W', C]`, `H' = size[0]` or `floor(H * scaleFactor)`.
 */
export class Upsample extends Module<UpsampleOptions> {
  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config: UpsampleOptions = { mode: 'nearest', ...options };
    if (config.mode === 'bilinear') config.alignCorners ??= false;
    interpolateGeometry('Upsample', PROBE_INPUT, config);
    super(config);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const axes = interpolateGeometry(this.label, x.shape, this.config);
    return interpolateWith(
      x,
      axes,
      this.config.mode ?? 'nearest',
      this.config.alignCorners ?? false,
    );
  }

  outputShape(input: Shape): Shape {
    const [h, w] = interpolateGeometry(this.label, input, this.config);
    return [input[0], h.out, w.out, input[3]];
  }
}
