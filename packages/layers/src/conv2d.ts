import { initPresets } from '@convkit/initializers';
import * as tf from '@tensorflow/tfjs-core';
import { initParam } from './internal/init-param';
import { convOutputSize, type IntOrPair, toPair } from './internal/pairs';
import { Module, type Shape } from './module';
import type { Param } from './param';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntOrPair;
  /** Default 1. */
  stride?: IntOrPair;
  /** Zero padding per side, or `'same'` (stride 1 only, as in PyTorch) or `'valid'`. Default 0. */
  padding?: IntOrPair | 'same' | 'valid';
  /** Default 1. */
  dilation?: IntOrPair;
  /** 1 (dense) or `inChannels` (depthwise, `outChannels` a multiple of it). Default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
}

/**
 * 2-D convolution over NHWC input, as torch.nn.Conv2d.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H', W', outChannels]` with
 * `H' = floor((H + 2p - d(k - 1) - 1) / s) + 1`.
 * Parameters: `weight` `[kh, kw, inChannels, outChannels]` (layout `HWIO`; PyTorch stores
 * `[out, in, kh, kw]`) or, depthwise, `[kh, kw, inChannels, outChannels / inChannels]` (`HWCM`);
 * `bias` `[outChannels]`. Both U(±1/sqrt(fanIn)), PyTorch's default.
 */
export class Conv2d extends Module<Required<Conv2dOptions>> {
  weight: Param;
  bias?: Param;
  private readonly kernel: [number, number];
  private readonly strides: [number, number];
  private readonly dilations: [number, number];
  private readonly pads: [number, number] | 'same' | 'valid';

  constructor(options: Conv2dOptions) {
    const config = { stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, ...options };
    const where = 'Conv2d';
    for (const key of ['inChannels', 'outChannels'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) {
        throw new Error(
          `${where}: expected ${key} to be a positive integer, received ${config[key]}`,
        );
      }
    }
    const kernel = toPair(where, 'kernelSize', config.kernelSize);
    const strides = toPair(where, 'stride', config.stride);
    const dilations = toPair(where, 'dilation', config.dilation);
    const pads =
      config.padding === 'same' || config.padding === 'valid'
        ? config.padding
        : toPair(where, 'padding', config.padding, 0);
    const depthwise = config.groups === config.inChannels && config.groups > 1;
    if (config.groups !== 1 && !(depthwise && config.outChannels % config.inChannels === 0)) {
      throw new Error(
        `${where}: groups must be 1 or inChannels (depthwise, outChannels a multiple of inChannels); received groups=${config.groups}, inChannels=${config.inChannels}, outChannels=${config.outChannels}`,
      );
    }
    if (pads === 'same' && strides.some((s) => s !== 1)) {
      throw new Error(
        `${where}: padding 'same' needs stride 1 (as in PyTorch), received stride ${JSON.stringify(config.stride)}`,
      );
    }
    if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) {
      throw new Error(
        `${where}: tfjs cannot combine stride > 1 with dilation > 1, received stride ${JSON.stringify(config.stride)} and dilation ${JSON.stringify(config.dilation)}`,
      );
    }
    super(config);
    this.kernel = kernel;
    this.strides = strides;
    this.dilations = dilations;
    this.pads = pads;

    const perGroupIn = config.inChannels / config.groups;
    const shape = depthwise
      ? [kernel[0], kernel[1], config.inChannels, config.outChannels / config.inChannels]
      : [kernel[0], kernel[1], config.inChannels, config.outChannels];
    const fans = {
      fanIn: perGroupIn * kernel[0] * kernel[1],
      fanOut: (config.outChannels / config.groups) * kernel[0] * kernel[1],
    };
    this.weight = initParam(depthwise ? 'HWCM' : 'HWIO', () =>
      initPresets.pytorch.convWeight.tensor(shape, { fans }),
    );
    if (config.bias) {
      this.bias = initParam('vector', () =>
        initPresets.pytorch.convBias.tensor([config.outChannels], { fans }),
      );
    }
  }

  private get depthwise(): boolean {
    return this.config.groups > 1;
  }

  /** tfjs's padding argument: 'same', 'valid' or explicit NHWC pairs. */
  private get tfPadding(): 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
    if (typeof this.pads === 'string') return this.pads;
    const [ph, pw] = this.pads;
    return [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ];
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) this.outputShape(x.shape);
    const w = this.weight.variable as tf.Tensor4D;
    const input = x as tf.Tensor4D;
    let y = this.depthwise
      ? tf.depthwiseConv2d(input, w, this.strides, this.tfPadding, 'NHWC', this.dilations)
      : tf.conv2d(input, w, this.strides, this.tfPadding, 'NHWC', this.dilations);
    if (this.bias) y = tf.add(y, this.bias.variable);
    return y;
  }

  /** Pads before and after on each spatial axis. */
  private padsPerAxis(): [[number, number], [number, number]] {
    if (this.pads === 'valid')
      return [
        [0, 0],
        [0, 0],
      ];
    if (this.pads === 'same') {
      // Stride 1: total padding d(k - 1), the extra pixel after (PyTorch and tfjs agree).
      return [0, 1].map((i) => {
        const total = this.dilations[i] * (this.kernel[i] - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      }) as [[number, number], [number, number]];
    }
    return [
      [this.pads[0], this.pads[0]],
      [this.pads[1], this.pads[1]],
    ];
  }

  outputShape(input: Shape): Shape {
    this.expectRank(input, 4, 'NHWC input');
    const [n, h, w, c] = input;
    if (c !== this.config.inChannels) {
      throw new Error(
        `${this.label}: expected ${this.config.inChannels} input channels (shape [N, H, W, ${this.config.inChannels}]), received shape [${input}]`,
      );
    }
    const pads = this.padsPerAxis();
    const out = [h, w].map((size, i) => {
      const effective = this.dilations[i] * (this.kernel[i] - 1) + 1;
      if (size + pads[i][0] + pads[i][1] < effective) {
        throw new Error(
          `${this.label}: kernel ${this.kernel[0]}x${this.kernel[1]} (dilation ${this.dilations[i]}) is larger than the padded input ${size + pads[i][0] + pads[i][1]} on axis ${i === 0 ? 'H' : 'W'}; input shape [${input}]`,
        );
      }
      return convOutputSize(
        size,
        this.kernel[i],
        this.strides[i],
        pads[i][0],
        pads[i][1],
        this.dilations[i],
      );
    });
    return [n, out[0], out[1], this.config.outChannels];
  }

  override multiplyAdds(_inputs: Shape[], output: Shape): number {
    const perOutput =
      (this.config.inChannels / this.config.groups) * this.kernel[0] * this.kernel[1];
    return output.reduce((a, b) => a * b, 1) * perOutput;
  }
}
