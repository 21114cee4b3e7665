import { Module, type Shape } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';

/** One stage whose output a feature extractor can tap (timm's `feature_info`). */
export interface FeatureInfo {
  /** State-dict prefix of the module whose output is the stage's feature map (`layer2`). */
  module: string;
  /** Channels of that feature map. */
  channels: number;
  /** Total stride from the input: the input size divided by the map's size (2, 4, 8, ...). */
  reduction: number;
}

/**
 * What transfer learning, preprocessing and visualization read instead of reaching into a
 * model's internals (timm's `pretrained_cfg` plus `feature_info`).
 */
export interface ModelInfo {
  /** The factory's name (`resnet18`). */
  name: string;
  /** The input size the architecture was designed for, `[H, W, C]`. */
  inputSize: readonly [number, number, number];
  /** Per-channel normalization of the training data (inputs are `(x - mean) / std`). */
  mean: readonly number[];
  std: readonly number[];
  /** State-dict prefix of the first convolution (replace it for other channel counts). */
  firstConv: string;
  /** State-dict prefix of the final classifier layer (replace it for other class counts). */
  classifier: string;
  featureInfo: readonly FeatureInfo[];
  /**
   * Linear layers that follow a flatten, with PyTorch's `[C, H, W]` of the flattened map: a
   * PyTorch checkpoint's columns are in CHW order and convkit flattens NHWC, so
   * `convertStateDict(..., { flattenedFrom })` of `@convkit/weights` needs this.
   */
  flattenedFrom: Readonly<Record<string, readonly [number, number, number]>>;
}

export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

/** The largest side the minimum-size search tries. */
const MAX_SIDE = 4096;

/** Any zoo model, whatever its config and output type. */
export type AnyZooModel = ZooModel<any, unknown>;

/**
 * The base of every zoo model: `forward(x) = forwardHead(forwardFeatures(x))`, metadata in
 * `info`, and an input check that names the smallest input the architecture accepts (found from
 * the layers' own `outputShape`, so it is never out of date).
 */
export abstract class ZooModel<Config extends object = object, Output = tf.Tensor> extends Module<
  Config,
  Output
> {
  /** Metadata; plain data, not part of the state dict (frozen by `freezeInfo`). */
  abstract readonly info: ModelInfo;
  private cachedMinInputSize?: number;

  /** The feature map before pooling and classification, `[N, h, w, C]`. */
  abstract forwardFeatures(x: tf.Tensor): tf.Tensor;

  /** Pooling and classifier over `forwardFeatures`' output: the logits. */
  abstract forwardHead(features: tf.Tensor): tf.Tensor;

  /** `forwardFeatures`' output shape, from the layers' `outputShape` (no input checks). */
  protected abstract featuresShape(input: Shape): Shape;

  /** `forwardHead`'s output shape. */
  protected abstract headShape(features: Shape): Shape;

  /** The input channels the model was built for. */
  protected abstract get inputChannels(): number;

  /** The logits. A model with another `Output` (GoogLeNet's `{ logits, aux }`) overrides this. */
  forward(x: tf.Tensor): Output {
    this.checkInput(x.shape);
    return tf.tidy(() => this.forwardHead(this.forwardFeatures(x))) as unknown as Output;
  }

  outputShape(input: Shape): Shape {
    this.checkInput(input);
    return this.headShape(this.featuresShape(input));
  }

  /** Shape of `forwardFeatures(x)` for an input of `input`'s shape (checked). */
  featureShape(input: Shape): Shape {
    this.checkInput(input);
    return this.featuresShape(input);
  }

  /** Whether `[1, side, side, C]` goes through the architecture. */
  protected accepts(side: number): boolean {
    try {
      this.headShape(this.featuresShape([1, side, side, this.inputChannels]));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The smallest square input side the architecture accepts (each axis on its own), found by
   * trying sides 1, 2, 3, ... through the layers' `outputShape`.
   */
  get minInputSize(): number {
    if (this.cachedMinInputSize === undefined) {
      let side = 1;
      while (side <= MAX_SIDE && !this.accepts(side)) side++;
      if (side > MAX_SIDE) {
        throw new Error(`${this.label}: no square input up to ${MAX_SIDE}x${MAX_SIDE} fits`);
      }
      this.cachedMinInputSize = side;
    }
    return this.cachedMinInputSize;
  }

  /**
   * Throw unless `input` is `[N, H, W, C]` with the model's channels and a size the architecture
   * accepts; a too small input is refused with the minimum size named.
   */
  protected checkInput(input: Shape): void {
    const c = this.inputChannels;
    if (input.length !== 4 || input[3] !== c) {
      throw new Error(
        `${this.label}: expected an NHWC input [N, H, W, ${c}], received shape [${input}]`,
      );
    }
    try {
      this.headShape(this.featuresShape(input));
    } catch (error) {
      const min = this.minInputSize;
      if (input[1] < min || input[2] < min) {
        throw new Error(
          `${this.label}: input ${input[1]}x${input[2]} is too small; ${this.info.name} needs at least ${min}x${min} (input shape [N, >=${min}, >=${min}, ${c}]), received shape [${input}]`,
        );
      }
      throw error;
    }
  }
}

/** Deep-freeze a model's metadata, so that no caller can change what every model reports. */
export function freezeInfo(info: ModelInfo): ModelInfo {
  for (const f of info.featureInfo) Object.freeze(f);
  for (const v of Object.values(info.flattenedFrom)) Object.freeze(v);
  for (const key of ['inputSize', 'mean', 'std', 'featureInfo', 'flattenedFrom'] as const) {
    Object.freeze(info[key]);
  }
  return Object.freeze(info);
}
