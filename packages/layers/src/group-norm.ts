import * as tf from '@tensorflow/tfjs-core';
import { groupNorm } from './functional/normalization';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { Param } from './param';

export interface GroupNormOptions {
  /** Groups of consecutive channels; must divide numChannels. */
  numGroups: number;
  numChannels: number;
  /** Default 1e-5. */
  eps?: number;
  /** Learn per-channel `weight` and `bias`. Default true. */
  affine?: boolean;
}

/** torch.nn.GroupNorm's positional order. */
const signature = layerSignature<GroupNormOptions>()(
  'GroupNorm',
  ['numGroups', 'numChannels'],
  ['eps', 'affine'],
);

/**
 * Group normalization on channels-last input, as torch.nn.GroupNorm: each sample's channels
 * split into numGroups groups, each normalized over its channels and all spatial positions
 * (biased variance). Same in train and eval.
 *
 * Shape: `[N, ..., C]` -> the same (NHWC for images).
 * Parameters (affine): `weight` `[C]` (ones), `bias` `[C]` (zeros), layout `vector`.
 */
export class GroupNorm extends Module<Required<GroupNormOptions>> {
  weight?: Param;
  bias?: Param;

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { eps: 1e-5, affine: true, ...options };
    for (const key of ['numGroups', 'numChannels'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) {
        throw new Error(
          `GroupNorm: expected ${key} to be a positive integer, received ${config[key]}`,
        );
      }
    }
    if (config.numChannels % config.numGroups !== 0) {
      throw new Error(
        `GroupNorm: numChannels must be divisible by numGroups, received numChannels=${config.numChannels}, numGroups=${config.numGroups}`,
      );
    }
    if (typeof config.eps !== 'number' || !(config.eps >= 0)) {
      throw new Error(`GroupNorm: expected eps to be a number >= 0, received ${config.eps}`);
    }
    super(config);
    if (config.affine) {
      this.weight = new Param(tf.ones([config.numChannels]), 'vector');
      this.bias = new Param(tf.zeros([config.numChannels]), 'vector');
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    const { numGroups, eps } = this.config;
    return groupNorm(x, numGroups, this.weight?.variable, this.bias?.variable, eps);
  }

  outputShape(input: Shape): Shape {
    const c = this.config.numChannels;
    if (input.length < 2 || input.at(-1) !== c) {
      throw new Error(
        `${this.label}: expected input of shape [N, ..., ${c}] (channels last), received shape [${input}]`,
      );
    }
    return [...input];
  }
}
