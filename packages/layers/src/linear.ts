import { computeFans } from '@convkit/backend';
import { initPresets } from '@convkit/initializers';
import * as tf from '@tensorflow/tfjs-core';
import { outsideGradientTape } from './internal/gradient-tape';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { Param } from './param';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
}

/** torch.nn.Linear's positional order. */
const signature = layerSignature<LinearOptions>()(
  'Linear',
  ['inFeatures', 'outFeatures'],
  ['bias'],
);

/**
 * y = x W + b, as torch.nn.Linear with the weight stored transposed (tfjs layout).
 *
 * Shape: `[..., inFeatures]` -> `[..., outFeatures]`.
 * Parameters: `weight` `[inFeatures, outFeatures]` (layout `IO`; PyTorch stores `[out, in]`),
 * `bias` `[outFeatures]`. Both U(±1/sqrt(inFeatures)), PyTorch's default.
 */
export class Linear extends Module<Required<LinearOptions>> {
  weight: Param;
  bias?: Param;

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { bias: true, ...options };
    for (const key of ['inFeatures', 'outFeatures'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) {
        throw new Error(
          `Linear: expected ${key} to be a positive integer, received ${config[key]}`,
        );
      }
    }
    super(config);
    const shape = [config.inFeatures, config.outFeatures];
    const fans = computeFans(shape, 'IO');
    this.weight = new Param(initPresets.pytorch.linearWeight.tensor(shape, { fans }), 'IO');
    if (config.bias) {
      this.bias = new Param(
        initPresets.pytorch.linearBias.tensor([config.outFeatures], { fans }),
        'vector',
      );
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    const { inFeatures, outFeatures } = this.config;
    if (x.shape.at(-1) !== inFeatures) this.outputShape(x.shape);
    const flat = x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures]);
    const [w, bias] = [this.weight.variable, this.bias?.variable];
    // One fused op with the bias (on convkit's wasm backend: the product and one SIMD pass).
    const y = outsideGradientTape()
      ? tf.fused.matMul({ a: flat, b: w, bias })
      : tf.tidy(() => (bias ? tf.add(tf.matMul(flat, w), bias) : tf.matMul(flat, w)));
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]);
  }

  outputShape(input: Shape): Shape {
    if (input.length < 1 || input.at(-1) !== this.config.inFeatures) {
      throw new Error(
        `${this.label}: expected input shape [..., ${this.config.inFeatures}], received [${input}]`,
      );
    }
    return [...input.slice(0, -1), this.config.outFeatures];
  }

  override multiplyAdds(_inputs: Shape[], output: Shape): number {
    return output.reduce((a, b) => a * b, 1) * this.config.inFeatures;
  }
}
