import * as tf from '@tensorflow/tfjs-core';
import { layerNorm } from './functional/normalization';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { Param } from './param';

export interface LayerNormOptions {
  /**
   * The trailing axes to normalize over, on convkit's tensors: `[C]` normalizes each position's
   * channels; PyTorch's `LayerNorm([C, H, W])` on NCHW is `[H, W, C]` here, its weight and bias
   * permuted (1, 2, 0).
   */
  normalizedShape: number | number[];
  /** Default 1e-5. */
  eps?: number;
  /** Learn `weight` and `bias` of shape normalizedShape. Default true. */
  elementwiseAffine?: boolean;
}

/** torch.nn.LayerNorm's positional order. */
const signature = layerSignature<LayerNormOptions>()(
  'LayerNorm',
  ['normalizedShape'],
  ['eps', 'elementwiseAffine'],
);

/**
 * Layer normalization over the trailing axes, as torch.nn.LayerNorm (biased variance).
 *
 * Shape: `[..., *normalizedShape]` -> the same.
 * Parameters (elementwiseAffine): `weight` (ones) and `bias` (zeros) of shape normalizedShape,
 * layout `vector` (a 1-D normalizedShape needs no conversion; a multi-axis one is stored in
 * convkit's axis order).
 */
export class LayerNorm extends Module<{
  normalizedShape: number[];
  eps: number;
  elementwiseAffine: boolean;
}> {
  weight?: Param;
  bias?: Param;

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const normalizedShape =
      typeof options?.normalizedShape === 'number'
        ? [options.normalizedShape]
        : options?.normalizedShape;
    if (
      !Array.isArray(normalizedShape) ||
      normalizedShape.length === 0 ||
      !normalizedShape.every((d) => Number.isInteger(d) && d >= 1)
    ) {
      throw new Error(
        `LayerNorm: expected normalizedShape to be a positive integer or a non-empty array of them, received ${JSON.stringify(options?.normalizedShape)}`,
      );
    }
    const config = {
      eps: 1e-5,
      elementwiseAffine: true,
      ...options,
      normalizedShape: [...normalizedShape],
    };
    if (typeof config.eps !== 'number' || !(config.eps >= 0)) {
      throw new Error(`LayerNorm: expected eps to be a number >= 0, received ${config.eps}`);
    }
    super(config);
    if (config.elementwiseAffine) {
      this.weight = new Param(tf.ones(normalizedShape), 'vector');
      this.bias = new Param(tf.zeros(normalizedShape), 'vector');
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    const { normalizedShape, eps } = this.config;
    return layerNorm(x, normalizedShape, this.weight?.variable, this.bias?.variable, eps);
  }

  outputShape(input: Shape): Shape {
    const ns = this.config.normalizedShape;
    if (
      input.length < ns.length ||
      !tf.util.arraysEqual(input.slice(input.length - ns.length), ns)
    ) {
      throw new Error(
        `${this.label}: expected input of shape [*, ${ns.join(', ')}] (trailing axes = normalizedShape), received shape [${input}]`,
      );
    }
    return [...input];
  }
}
