import { kaimingNormal } from '@convkit/initializers';
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  Module,
  ReLU,
  type Shape,
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import { reinit } from './internal/init';
import { positiveInteger } from './internal/options';
import { type FeatureInfo, freezeInfo, type ModelInfo, ZooModel } from './zoo-model';

interface DoubleConvOptions {
  inChannels: number;
  outChannels: number;
  batchNorm: boolean;
}

/**
 * Two 3x3 convs (padding 1), each followed by [BatchNorm and] ReLU. Keys `conv1`, [`bn1`],
 * `conv2`, [`bn2`]; the convs have a bias only without BatchNorm.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H, W, outChannels]`.
 */
export class DoubleConv extends Module<DoubleConvOptions> {
  conv1: Conv2d;
  bn1?: BatchNorm2d;
  conv2: Conv2d;
  bn2?: BatchNorm2d;
  relu: ReLU;

  constructor(options: DoubleConvOptions) {
    super(options);
    const { inChannels, outChannels, batchNorm } = options;
    const conv = (i: number) =>
      new Conv2d({ inChannels: i, outChannels, kernelSize: 3, padding: 1, bias: !batchNorm });
    this.conv1 = conv(inChannels);
    if (batchNorm) this.bn1 = new BatchNorm2d({ numFeatures: outChannels });
    this.conv2 = conv(outChannels);
    if (batchNorm) this.bn2 = new BatchNorm2d({ numFeatures: outChannels });
    this.relu = new ReLU();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.conv1.forward(x); // [N, H, W, out]
      h = this.relu.forward(this.bn1 ? this.bn1.forward(h) : h);
      h = this.conv2.forward(h); // [N, H, W, out]
      return this.relu.forward(this.bn2 ? this.bn2.forward(h) : h);
    });
  }

  outputShape(input: Shape): Shape {
    return this.conv2.outputShape(this.conv1.outputShape(input));
  }
}

export interface UNetOptions {
  /** Output channels of the 1x1 head (per-pixel classes). Default 2, as the paper. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Number of 2x2 max-pool downsamplings. Default 4, as the paper. */
  depth?: number;
  /** Channels of the first level; level i has baseChannels * 2^i. Default 64. */
  baseChannels?: number;
  /** BatchNorm after every conv (not in the paper). Default false. */
  batchNorm?: boolean;
  /** Kaiming normal (fan-in, ReLU) conv weights, as the paper recommends. Default true. */
  initWeights?: boolean;
}

export type UNetConfig = Required<UNetOptions>;

/**
 * U-Net (Ronneberger, Fischer & Brox 2015) with padding 1 in every 3x3 conv, so the output
 * has the input's size and the skip connections need no cropping (the paper uses unpadded
 * convs and crops; its 572x572 input gives a 388x388 map). Layout (keys):
 * - `encoder.i` (i < depth): DoubleConv to `baseChannels * 2^i`, each followed by a 2x2 max pool
 * - `bottleneck`: DoubleConv to `baseChannels * 2^depth`
 * - `upsample.j`: ConvTranspose2d 2x2 stride 2 halving the channels (j = 0 is the deepest)
 * - `decoder.j`: DoubleConv over the concatenation [skip, upsampled] (skip channels first, as
 *   `torch.cat([skip, up], 1)`)
 * - `head`: 1x1 conv to `numClasses`
 * 31,031,810 parameters with the defaults (inChannels 3, numClasses 2).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H, W, numClasses]` (per-pixel logits, NHWC); H and W
 * must be multiples of 2^depth. `forwardFeatures` gives the last decoder map
 * `[N, H, W, baseChannels]`, `forwardHead` the 1x1 conv.
 */
export class UNet extends ZooModel<UNetConfig> {
  encoder: DoubleConv[];
  pool: MaxPool2d;
  bottleneck: DoubleConv;
  upsample: ConvTranspose2d[];
  decoder: DoubleConv[];
  head: Conv2d;
  readonly info: ModelInfo;

  constructor(config: UNetConfig) {
    for (const key of ['numClasses', 'inChannels', 'depth', 'baseChannels'] as const) {
      positiveInteger('unet', key, config[key]);
    }
    super(config);
    const { depth, baseChannels, batchNorm } = config;
    const ch = Array.from({ length: depth + 1 }, (_, i) => baseChannels * 2 ** i);
    this.encoder = ch.slice(0, depth).map(
      (c, i) =>
        new DoubleConv({
          inChannels: i === 0 ? config.inChannels : ch[i - 1],
          outChannels: c,
          batchNorm,
        }),
    );
    this.pool = new MaxPool2d({ kernelSize: 2 });
    this.bottleneck = new DoubleConv({
      inChannels: ch[depth - 1],
      outChannels: ch[depth],
      batchNorm,
    });
    const levels = ch.slice(0, depth).map((_, i) => depth - 1 - i); // deepest first
    this.upsample = levels.map(
      (i) =>
        new ConvTranspose2d({
          inChannels: ch[i + 1],
          outChannels: ch[i],
          kernelSize: 2,
          stride: 2,
        }),
    );
    this.decoder = levels.map(
      (i) => new DoubleConv({ inChannels: ch[i + 1], outChannels: ch[i], batchNorm }),
    );
    this.head = new Conv2d({
      inChannels: baseChannels,
      outChannels: config.numClasses,
      kernelSize: 1,
    });
    const featureInfo: FeatureInfo[] = ch.slice(0, depth).map((c, i) => ({
      module: `encoder.${i}`,
      channels: c,
      reduction: 2 ** i,
    }));
    featureInfo.push({ module: 'bottleneck', channels: ch[depth], reduction: 2 ** depth });
    featureInfo.push({ module: `decoder.${depth - 1}`, channels: baseChannels, reduction: 1 });
    this.info = freezeInfo({
      name: 'unet',
      inputSize: [572 - (572 % 2 ** depth), 572 - (572 % 2 ** depth), config.inChannels],
      mean: [0.5],
      std: [0.5],
      firstConv: 'encoder.0.conv1',
      classifier: 'head',
      featureInfo,
      flattenedFrom: {},
    });
    if (config.initWeights) {
      const init = kaimingNormal({ nonlinearity: 'relu' });
      for (const [, m] of this.namedModules()) {
        if (m instanceof Conv2d && m !== this.head) reinit(m.weight, init);
      }
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const skips: tf.Tensor[] = [];
      let h = x; // [N, H, W, inChannels]
      for (const block of this.encoder) {
        h = block.forward(h); // [N, H / 2^i, W / 2^i, base * 2^i]
        skips.push(h);
        h = this.pool.forward(h); // [N, H / 2^(i+1), W / 2^(i+1), base * 2^i]
      }
      h = this.bottleneck.forward(h); // [N, H / 2^depth, W / 2^depth, base * 2^depth]
      for (let j = 0; j < this.decoder.length; j++) {
        const up = this.upsample[j].forward(h); // [N, 2h, 2w, c / 2]
        const skip = skips[skips.length - 1 - j]; // [N, 2h, 2w, c / 2]
        h = this.decoder[j].forward(tf.concat([skip, up], 3)); // [N, 2h, 2w, c / 2]
      }
      return h; // [N, H, W, base]
    });
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return this.head.forward(features); // [N, H, W, numClasses]
  }

  protected featuresShape(input: Shape): Shape {
    const multiple = 2 ** this.config.depth;
    if (input[1] % multiple !== 0 || input[2] % multiple !== 0) {
      throw new Error(
        `${this.label}: expected H and W to be multiples of ${multiple} (2^depth, depth ${this.config.depth}), received shape [${input}]`,
      );
    }
    let s = input;
    for (const block of this.encoder) s = this.pool.outputShape(block.outputShape(s));
    s = this.bottleneck.outputShape(s);
    for (let j = 0; j < this.decoder.length; j++) {
      const up = this.upsample[j].outputShape(s);
      s = this.decoder[j].outputShape([up[0], up[1], up[2], up[3] * 2]);
    }
    return s;
  }

  protected headShape(features: Shape): Shape {
    return this.head.outputShape(features);
  }
}

/** U-Net with padded convs (output size = input size); see `UNet`. */
export function unet(options: UNetOptions = {}): UNet {
  return new UNet({
    numClasses: 2,
    inChannels: 3,
    depth: 4,
    baseChannels: 64,
    batchNorm: false,
    initWeights: true,
    ...options,
  });
}
