import * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from './conv2d';
import { ELU } from './elu';
import { GELU } from './gelu';
import { Hardsigmoid } from './hardsigmoid';
import { Hardswish } from './hardswish';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { LeakyReLU } from './leaky-relu';
import { Mish } from './mish';
import { Module, type Shape } from './module';
import { ReLU } from './relu';
import { ReLU6 } from './relu6';
import { SELU } from './selu';
import { Sigmoid } from './sigmoid';
import { SiLU } from './silu';
import { Tanh } from './tanh';

/** The activations SqueezeExcitation can use, by class name (defaults of each). */
const ACTIVATIONS = {
  ELU,
  GELU,
  Hardsigmoid,
  Hardswish,
  LeakyReLU,
  Mish,
  ReLU,
  ReLU6,
  SELU,
  Sigmoid,
  SiLU,
  Tanh,
} as const;

export type SqueezeExcitationActivation = keyof typeof ACTIVATIONS;

export interface SqueezeExcitationOptions {
  inputChannels: number;
  squeezeChannels: number;
  /** After fc1, by class name. Default `'ReLU'` (torchvision). */
  activation?: SqueezeExcitationActivation;
  /** After fc2, by class name. Default `'Sigmoid'`; MobileNetV3 uses `'Hardsigmoid'`. */
  scaleActivation?: SqueezeExcitationActivation;
}

function makeActivation(key: string, name: string): Module {
  const Activation = (ACTIVATIONS as Record<string, new () => Module>)[name];
  if (!Activation) {
    throw new Error(
      `SqueezeExcitation: expected ${key} to be one of ${Object.keys(ACTIVATIONS).join(', ')}, received ${JSON.stringify(name)}`,
    );
  }
  return new Activation();
}

/** torchvision.ops.SqueezeExcitation's positional order. */
const signature = layerSignature<SqueezeExcitationOptions>()(
  'SqueezeExcitation',
  ['inputChannels', 'squeezeChannels'],
  ['activation', 'scaleActivation'],
);

/**
 * Squeeze-and-excitation (Hu et al. 2018), as torchvision.ops.SqueezeExcitation: global average
 * pool, 1x1 conv `fc1` to squeezeChannels, activation, 1x1 conv `fc2` back to inputChannels,
 * scale activation, then the input scaled channel-wise.
 *
 * Shape: `[N, H, W, inputChannels]` -> the same.
 * Parameters (torchvision's keys): `fc1.weight` `[1, 1, inputChannels, squeezeChannels]`,
 * `fc1.bias` `[squeezeChannels]`, `fc2.weight` `[1, 1, squeezeChannels, inputChannels]`,
 * `fc2.bias` `[inputChannels]` (conv layout `HWIO`; PyTorch `[out, in, 1, 1]`).
 */
export class SqueezeExcitation extends Module<Required<SqueezeExcitationOptions>> {
  fc1: Conv2d;
  fc2: Conv2d;
  activation: Module;
  scale_activation: Module;

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = { activation: 'ReLU' as const, scaleActivation: 'Sigmoid' as const, ...options };
    for (const key of ['inputChannels', 'squeezeChannels'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) {
        throw new Error(
          `SqueezeExcitation: expected ${key} to be a positive integer, received ${config[key]}`,
        );
      }
    }
    const activation = makeActivation('activation', config.activation);
    const scaleActivation = makeActivation('scaleActivation', config.scaleActivation);
    super(config);
    const { inputChannels, squeezeChannels } = config;
    this.fc1 = new Conv2d({
      inChannels: inputChannels,
      outChannels: squeezeChannels,
      kernelSize: 1,
    });
    this.fc2 = new Conv2d({
      inChannels: squeezeChannels,
      outChannels: inputChannels,
      kernelSize: 1,
    });
    this.activation = activation;
    this.scale_activation = scaleActivation;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.config.inputChannels) this.outputShape(x.shape);
    return tf.tidy(() => {
      const pooled = tf.mean(x, [1, 2], true); // [N, 1, 1, C]
      const squeezed = this.activation.forward(this.fc1.forward(pooled)); // [N, 1, 1, S]
      const scale = this.scale_activation.forward(this.fc2.forward(squeezed)); // [N, 1, 1, C]
      return tf.mul(x, scale);
    });
  }

  outputShape(input: Shape): Shape {
    const c = this.config.inputChannels;
    if (input.length !== 4 || input[3] !== c) {
      throw new Error(
        `${this.label}: expected input of shape [N, H, W, ${c}], received shape [${input}]`,
      );
    }
    return [...input];
  }
}
