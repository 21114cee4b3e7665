import { Conv2d } from '@convkit/layers';
import type { ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { moduleAt, replaceModuleAt } from './internal/paths';

/**
 * A first-conv kernel `[kh, kw, I, O]` (HWIO) adapted to `inChannels` inputs, with timm's rule
 * (`adapt_input_conv`): to 1 channel, sum over the input channels (a gray image then gives the
 * response the RGB kernel gave to that gray value in every channel); to `n` channels, repeat
 * the `I` input slices `ceil(n / I)` times, keep the first `n` and scale by `I / n` (so the
 * reverse, a 1-channel kernel to RGB, repeats it and divides by 3). The caller owns the result.
 */
export function adaptKernel(kernel: tf.Tensor, inChannels: number): tf.Tensor {
  if (kernel.rank !== 4) {
    throw new Error(
      `adaptInputChannels: expected an HWIO kernel of rank 4, received shape [${kernel.shape}]`,
    );
  }
  if (!Number.isInteger(inChannels) || inChannels < 1) {
    throw new Error(
      `adaptInputChannels: expected inChannels to be a positive integer, received ${inChannels}`,
    );
  }
  const from = kernel.shape[2] as number;
  return tf.tidy(() => {
    if (inChannels === from) return kernel.clone();
    if (inChannels === 1) return tf.sum(kernel, 2, true);
    const repeat = Math.ceil(inChannels / from);
    const tiled = tf.tile(kernel, [1, 1, repeat, 1]);
    const [kh, kw, , out] = kernel.shape;
    return tf.mul(tf.slice(tiled, [0, 0, 0, 0], [kh, kw, inChannels, out]), from / inChannels);
  });
}

/**
 * Adapt a (pretrained) zoo model to inputs with `inChannels` channels: its first convolution
 * (`model.info.firstConv`) is replaced by one with the same options and `adaptKernel`'s weights
 * (bias kept), and the model's `config.inChannels` follows (so input checks and `toJSON` agree).
 * Returns the new convolution.
 */
export function adaptInputChannels(model: ZooModel, inChannels: number): Conv2d {
  const path = model.info.firstConv;
  const conv = moduleAt(model, path, 'adaptInputChannels');
  if (!(conv instanceof Conv2d)) {
    throw new Error(
      `adaptInputChannels: ${model.info.name}'s first conv ${JSON.stringify(path)} is a ${conv.constructor.name}, expected a Conv2d`,
    );
  }
  if ((conv.config.groups ?? 1) !== 1) {
    throw new Error(
      `adaptInputChannels: the first conv ${JSON.stringify(path)} is grouped (groups ${conv.config.groups}); only groups 1 is adapted`,
    );
  }
  const kernel = adaptKernel(conv.weight.variable, inChannels);
  const replacement = new Conv2d({ ...conv.config, inChannels });
  replacement.weight.variable.assign(kernel);
  kernel.dispose();
  if (conv.bias && replacement.bias) replacement.bias.variable.assign(conv.bias.variable);
  replacement.weight.trainable = conv.weight.trainable;
  if (replacement.bias && conv.bias) replacement.bias.trainable = conv.bias.trainable;
  replacement.frozen = conv.frozen;
  replaceModuleAt(model, path, replacement, 'adaptInputChannels');
  conv.dispose();
  const config = model.config as { inChannels?: number };
  if (config.inChannels !== undefined) {
    (model as { config: object }).config = Object.freeze({ ...model.config, inChannels });
  }
  return replacement;
}
