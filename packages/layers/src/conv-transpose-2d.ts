import { computeFans } from '@convkit/backend';
import { initPresets } from '@convkit/initializers';
import * as tf from '@tensorflow/tfjs-core';
import { type IntOrPair, toPair } from './int-or-pair';
import { dilateKernel } from './internal/dilate-kernel';
import { type ArgumentsOf, layerSignature } from './layer-arguments';
import { Module, type Shape } from './module';
import { Param } from './param';

export interface ConvTranspose2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntOrPair;
  /** Default 1. */
  stride?: IntOrPair;
  /** Cropped from each side of the full output, as PyTorch's `padding`. Default 0. */
  padding?: IntOrPair;
  /** Extra rows / columns at the end (bottom, right); smaller than stride or dilation. Default 0. */
  outputPadding?: IntOrPair;
  /** Divides `inChannels` and `outChannels`. Default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Default 1. */
  dilation?: IntOrPair;
}

/** torch.nn.ConvTranspose2d's positional order. */
const signature = layerSignature<ConvTranspose2dOptions>()(
  'ConvTranspose2d',
  ['inChannels', 'outChannels', 'kernelSize'],
  ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation'],
);

/**
 * Transposed 2-D convolution (the gradient of Conv2d with respect to its input) over NHWC
 * input, as torch.nn.ConvTranspose2d.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H', W', outChannels]` with
 * `H' = (H - 1)s - 2p + d(k - 1) + outputPadding + 1`.
 * Parameters: `weight` `[kh, kw, outChannels / groups, inChannels]` (layout `HWOI`, tfjs's
 * conv2dTranspose filter; PyTorch stores `[in, out / groups, kh, kw]`), `bias` `[outChannels]`;
 * both U(±1/sqrt(fanIn)) with fanIn = (outChannels / groups) * kh * kw, PyTorch's default.
 *
 * Computed as tfjs's 'valid' conv2dTranspose (the full output), then `padding` cropped from
 * each side and `outputPadding` zeros added at the end where the full output is too short.
 */
export class ConvTranspose2d extends Module<Required<ConvTranspose2dOptions>> {
  weight: Param;
  bias?: Param;
  private readonly kernel: [number, number];
  private readonly strides: [number, number];
  private readonly pads: [number, number];
  private readonly outputPads: [number, number];
  private readonly dilations: [number, number];

  constructor(...args: ArgumentsOf<typeof signature>) {
    const options = signature.parse(args);
    const config = {
      stride: 1,
      padding: 0,
      outputPadding: 0,
      groups: 1,
      bias: true,
      dilation: 1,
      ...options,
    };
    const where = 'ConvTranspose2d';
    for (const key of ['inChannels', 'outChannels', 'groups'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) {
        throw new Error(
          `${where}: expected ${key} to be a positive integer, received ${config[key]}`,
        );
      }
    }
    const { groups, inChannels, outChannels } = config;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `${where}: groups must divide inChannels and outChannels; received groups=${groups}, inChannels=${inChannels}, outChannels=${outChannels}`,
      );
    }
    const kernel = toPair(where, 'kernelSize', config.kernelSize);
    const strides = toPair(where, 'stride', config.stride);
    const pads = toPair(where, 'padding', config.padding, 0);
    const outputPads = toPair(where, 'outputPadding', config.outputPadding, 0);
    const dilations = toPair(where, 'dilation', config.dilation);
    if (outputPads.some((op, i) => op >= strides[i] && op >= dilations[i])) {
      throw new Error(
        `${where}: outputPadding must be smaller than stride or dilation, received outputPadding ${JSON.stringify(config.outputPadding)}, stride ${JSON.stringify(config.stride)}, dilation ${JSON.stringify(config.dilation)}`,
      );
    }
    super(config);
    this.kernel = kernel;
    this.strides = strides;
    this.pads = pads;
    this.outputPads = outputPads;
    this.dilations = dilations;
    const shape = [kernel[0], kernel[1], outChannels / groups, inChannels];
    const fans = computeFans(shape, 'HWOI');
    this.weight = new Param(initPresets.pytorch.convWeight.tensor(shape, { fans }), 'HWOI');
    if (config.bias) {
      this.bias = new Param(initPresets.pytorch.convBias.tensor([outChannels], { fans }), 'vector');
    }
  }

  /** Full (uncropped) output size per axis. */
  private fullSize(size: number, i: number): number {
    return (size - 1) * this.strides[i] + this.dilations[i] * (this.kernel[i] - 1) + 1;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [n, oh, ow, oc] = this.outputShape(x.shape) as [number, number, number, number];
    return tf.tidy(() => {
      const { groups } = this.config;
      const w = dilateKernel(this.weight.variable, this.dilations) as tf.Tensor4D;
      const [, h, wd] = x.shape as [number, number, number, number];
      const full = [this.fullSize(h, 0), this.fullSize(wd, 1)];
      const transpose = (xg: tf.Tensor, wg: tf.Tensor, channels: number) =>
        tf.conv2dTranspose(
          xg as tf.Tensor4D,
          wg as tf.Tensor4D,
          [n, full[0], full[1], channels],
          this.strides,
          'valid',
        );
      let y: tf.Tensor =
        groups === 1
          ? transpose(x, w, oc)
          : tf.concat(
              tf
                .split(x, groups, 3)
                .map((xg, g) => transpose(xg, tf.split(w, groups, 3)[g], oc / groups)),
              3,
            );
      // Output padding beyond the full output: zeros (then the bias), as PyTorch.
      const short = [oh, ow].map((o, i) => Math.max(this.pads[i] + o - full[i], 0));
      if (short[0] || short[1]) {
        y = tf.pad(y, [
          [0, 0],
          [0, short[0]],
          [0, short[1]],
          [0, 0],
        ]);
      }
      if (this.pads[0] || this.pads[1] || y.shape[1] !== oh || y.shape[2] !== ow) {
        y = tf.slice(y, [0, this.pads[0], this.pads[1], 0], [n, oh, ow, oc]);
      }
      if (this.bias) y = tf.add(y, this.bias.variable);
      return y;
    });
  }

  outputShape(input: Shape): Shape {
    this.expectRank(input, 4, 'NHWC input');
    const [n, h, w, c] = input;
    if (c !== this.config.inChannels) {
      throw new Error(
        `${this.label}: expected ${this.config.inChannels} input channels (shape [N, H, W, ${this.config.inChannels}]), received shape [${input}]`,
      );
    }
    const out = [h, w].map((size, i) => {
      const o = this.fullSize(size, i) - 2 * this.pads[i] + this.outputPads[i];
      if (o < 1) {
        throw new Error(
          `${this.label}: padding ${this.pads[i]} leaves an empty output (${o}) on axis ${i === 0 ? 'H' : 'W'}; input shape [${input}]`,
        );
      }
      return o;
    });
    return [n, out[0], out[1], this.config.outChannels];
  }

  override multiplyAdds(input: Shape[], _output: Shape): number {
    const [n, h, w] = input[0];
    return (
      n *
      h *
      w *
      this.config.inChannels *
      (this.config.outChannels / this.config.groups) *
      this.kernel[0] *
      this.kernel[1]
    );
  }
}
