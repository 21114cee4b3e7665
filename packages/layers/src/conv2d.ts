import { computeFans } from '@convkit/backend';
import { initPresets } from '@convkit/initializers';
import * as tf from '@tensorflow/tfjs-core';
import { padWith } from './functional/padding';
import { type IntOrPair, toPair } from './int-or-pair';
import { dilateKernel } from './internal/dilate-kernel';
import { outsideGradientTape } from './internal/gradient-tape';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { convOutputSize } from './output-size';
import { Param } from './param';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntOrPair;
  /** Default 1. */
  stride?: IntOrPair;
  /** Padding per side, or `'same'` (stride 1 only, as in PyTorch) or `'valid'`. Default 0. */
  padding?: IntOrPair | 'same' | 'valid';
  /** How padded cells are filled, as PyTorch's padding_mode. Default 'zeros'. */
  paddingMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
  /** Default 1. Trainable (gradients through a zero-inserted kernel). */
  dilation?: IntOrPair;
  /** Divides `inChannels` and `outChannels`; `groups = inChannels` is depthwise. Default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
}

const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'];

/** torch.nn.Conv2d's positional order. */
const signature = layerSignature<Conv2dOptions>()(
  'Conv2d',
  ['inChannels', 'outChannels', 'kernelSize'],
  ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode'],
);

/**
 * 2-D convolution over NHWC input, as torch.nn.Conv2d (padding modes, dilation with stride,
 * any `groups`).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H', W', outChannels]` with
 * `H' = floor((H + 2p - d(k - 1) - 1) / s) + 1`.
 * Parameters: `weight` `[kh, kw, inChannels / groups, outChannels]` (layout `HWIO`; PyTorch
 * stores `[out, in / groups, kh, kw]`) or, depthwise (`groups = inChannels`),
 * `[kh, kw, inChannels, outChannels / inChannels]` (`HWCM`; PyTorch `[C * M, 1, kh, kw]`);
 * `bias` `[outChannels]`. Both U(±1/sqrt(fanIn)), PyTorch's default.
 *
 * Grouped convolutions (1 < groups < inChannels) run one convolution per group; dilation > 1
 * convolves with a zero-inserted kernel (exact, differentiable, but it multiplies the zeros).
 */
export class Conv2d extends Module<Required<Conv2dOptions>> {
  weight: Param;
  bias?: Param;
  private readonly kernel: [number, number];
  private readonly strides: [number, number];
  private readonly dilations: [number, number];
  private readonly pads: [number, number] | 'same' | 'valid';

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = {
      stride: 1,
      padding: 0,
      paddingMode: 'zeros' as const,
      dilation: 1,
      groups: 1,
      bias: true,
      ...options,
    };
    const where = 'Conv2d';
    for (const key of ['inChannels', 'outChannels', 'groups'] as const) {
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
    const { groups, inChannels, outChannels } = config;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `${where}: groups must divide inChannels and outChannels; received groups=${groups}, inChannels=${inChannels}, outChannels=${outChannels}`,
      );
    }
    if (!PADDING_MODES.includes(config.paddingMode)) {
      throw new Error(
        `${where}: expected paddingMode 'zeros', 'reflect', 'replicate' or 'circular', received ${JSON.stringify(config.paddingMode)}`,
      );
    }
    if (pads === 'same' && strides.some((s) => s !== 1)) {
      throw new Error(
        `${where}: padding 'same' needs stride 1 (as in PyTorch), received stride ${JSON.stringify(config.stride)}`,
      );
    }
    super(config);
    this.kernel = kernel;
    this.strides = strides;
    this.dilations = dilations;
    this.pads = pads;

    const depthwise = groups === inChannels && groups > 1;
    const shape = depthwise
      ? [kernel[0], kernel[1], inChannels, outChannels / inChannels]
      : [kernel[0], kernel[1], inChannels / groups, outChannels];
    const layout = depthwise ? 'HWCM' : 'HWIO';
    const fans = computeFans(shape, layout);
    this.weight = new Param(initPresets.pytorch.convWeight.tensor(shape, { fans }), layout);
    if (config.bias) {
      this.bias = new Param(initPresets.pytorch.convBias.tensor([outChannels], { fans }), 'vector');
    }
  }

  private get depthwise(): boolean {
    return this.config.groups === this.config.inChannels && this.config.groups > 1;
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.outputShape(x.shape);
    return tf.tidy(() => {
      const [ph, pw] = this.padsPerAxis();
      const padded = ph[0] || ph[1] || pw[0] || pw[1];
      let input = x as tf.Tensor4D;
      let pad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] = 'valid';
      if (padded && this.config.paddingMode !== 'zeros') {
        input = padWith(x, [ph, pw], this.config.paddingMode, 0) as tf.Tensor4D;
      } else if (padded) {
        pad = [[0, 0], ph, pw, [0, 0]];
      }
      const w = dilateKernel(this.weight.variable, this.dilations) as tf.Tensor4D;
      const { groups } = this.config;
      let y: tf.Tensor;
      if (this.depthwise) {
        y = tf.depthwiseConv2d(input, w, this.strides, pad);
      } else if (groups === 1 && this.bias && outsideGradientTape()) {
        // One fused op with the bias: on convkit's wasm backend the convolution and one SIMD
        // pass for the bias, instead of a convolution and a separate broadcast add.
        const bias = this.bias.variable;
        return tf.fused.conv2d({ x: input, filter: w, strides: this.strides, pad, bias });
      } else if (groups === 1) {
        y = tf.conv2d(input, w, this.strides, pad);
      } else {
        const xs = tf.split(input, groups, 3);
        const ws = tf.split(w, groups, 3);
        y = tf.concat(
          xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, this.strides, pad)),
          3,
        );
      }
      if (this.bias) y = tf.add(y, this.bias.variable); // unfused: training, depthwise, grouped
      return y;
    });
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
      const mode = this.config.paddingMode;
      if (mode === 'reflect' && pads[i].some((p) => p >= size)) {
        throw new Error(
          `${this.label}: reflect padding ${pads[i][0]} needs an input larger than it on axis ${i === 0 ? 'H' : 'W'}; input shape [${input}]`,
        );
      }
      if (mode === 'circular' && pads[i].some((p) => p > size)) {
        throw new Error(
          `${this.label}: circular padding ${pads[i][0]} needs an input at least as large on axis ${i === 0 ? 'H' : 'W'}; input shape [${input}]`,
        );
      }
      return convOutputSize(size, {
        kernelSize: this.kernel[i],
        stride: this.strides[i],
        padding: pads[i],
        dilation: this.dilations[i],
      });
    });
    return [n, out[0], out[1], this.config.outChannels];
  }

  override multiplyAdds(_inputs: Shape[], output: Shape): number {
    const perOutput =
      (this.config.inChannels / this.config.groups) * this.kernel[0] * this.kernel[1];
    return output.reduce((a, b) => a * b, 1) * perOutput;
  }
}
