import { kaimingNormal, normal, zeros } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  Module,
  ReLU6,
  Sequential,
  type Shape,
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierOptions } from './classifier-options';
import { reinit } from './internal/init';
import { positiveInteger, probability } from './internal/options';
import {
  type FeatureInfo,
  freezeInfo,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelInfo,
  ZooModel,
} from './zoo-model';

/** torchvision's `_make_divisible`: round to a multiple of `divisor`, losing at most 10%. */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, ReLU6 as a Sequential. */
function convBNReLU6(
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  stride = 1,
  groups = 1,
): Sequential {
  return new Sequential(
    new Conv2d({
      inChannels,
      outChannels,
      kernelSize,
      stride,
      padding: (kernelSize - 1) >> 1,
      groups,
      bias: false,
    }),
    new BatchNorm2d({ numFeatures: outChannels }),
    new ReLU6(),
  );
}

interface InvertedResidualOptions {
  inChannels: number;
  outChannels: number;
  stride: number;
  expandRatio: number;
}

/**
 * MobileNetV2's inverted residual as torchvision: [1x1 expansion conv-BN-ReLU6], 3x3 depthwise
 * conv-BN-ReLU6 (stride), 1x1 linear projection conv, BN; the input is added when the stride
 * is 1 and the channels match. Keys `conv.0.0` (expansion or depthwise), ..., `conv.N` (BN).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H / stride, W / stride, outChannels]`.
 */
export class InvertedResidual extends Module<InvertedResidualOptions> {
  conv: Sequential;
  private readonly useResidual: boolean;

  constructor(options: InvertedResidualOptions) {
    super(options);
    const { inChannels, outChannels, stride, expandRatio } = options;
    const hidden = Math.round(inChannels * expandRatio);
    this.useResidual = stride === 1 && inChannels === outChannels;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convBNReLU6(inChannels, hidden, 1));
    layers.push(
      convBNReLU6(hidden, hidden, 3, stride, hidden),
      new Conv2d({ inChannels: hidden, outChannels, kernelSize: 1, bias: false }),
      new BatchNorm2d({ numFeatures: outChannels }),
    );
    this.conv = new Sequential(...layers);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const out = this.conv.forward(x); // [N, H / s, W / s, outChannels]
      return this.useResidual ? tf.add(x, out) : out;
    });
  }

  outputShape(input: Shape): Shape {
    return this.conv.outputShape(input);
  }
}

export interface MobileNetV2Options extends ClassifierOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Scales every layer's channels (rounded to multiples of 8). Default 1. */
  widthMult?: number;
  /** Dropout before the classifier. Default 0.2. */
  dropout?: number;
}

export type MobileNetV2Config = Required<MobileNetV2Options>;

/** t (expansion), c (channels), n (repeats), s (stride of the first). */
const SETTINGS = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * MobileNetV2 (Sandler et al. 2018) with torchvision's layout: `features.0` (3x3 stride-2
 * conv-BN-ReLU6, keys `features.0.0`, `features.0.1`), `features.1` ... `features.17` inverted
 * residuals (`features.N.conv...`), `features.18` (1x1 conv-BN-ReLU6 to 1280), global average
 * pool, `classifier` (Dropout 0.2, Linear; key `classifier.1`). 3,504,872 parameters.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, H / 32, W / 32, 1280]`.
 */
export class MobileNetV2 extends ZooModel<MobileNetV2Config> {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;
  readonly info: ModelInfo;

  constructor(config: MobileNetV2Config) {
    const where = 'mobilenetV2';
    positiveInteger(where, 'numClasses', config.numClasses);
    positiveInteger(where, 'inChannels', config.inChannels);
    probability(where, 'dropout', config.dropout);
    if (typeof config.widthMult !== 'number' || !(config.widthMult > 0)) {
      throw new Error(
        `${where}: expected widthMult to be a number > 0, received ${config.widthMult}`,
      );
    }
    super(config);
    let input = makeDivisible(32 * config.widthMult);
    const last = makeDivisible(1280 * Math.max(1, config.widthMult));
    const layers: Module[] = [convBNReLU6(config.inChannels, input, 3, 2)];
    const featureInfo: FeatureInfo[] = [];
    let reduction = 2;
    for (const [t, c, n, s] of SETTINGS) {
      const output = makeDivisible(c * config.widthMult);
      if (s === 2) {
        // timm's taps: the last block before each stride-2 stage.
        featureInfo.push({ module: `features.${layers.length - 1}`, channels: input, reduction });
        reduction *= 2;
      }
      for (let i = 0; i < n; i++) {
        layers.push(
          new InvertedResidual({
            inChannels: input,
            outChannels: output,
            stride: i === 0 ? s : 1,
            expandRatio: t,
          }),
        );
        input = output;
      }
    }
    layers.push(convBNReLU6(input, last, 1));
    featureInfo.push({ module: `features.${layers.length - 1}`, channels: last, reduction });
    this.features = new Sequential(...layers);
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: [1, 1] });
    this.flatten = new Flatten();
    this.classifier = new Sequential(
      new Dropout({ p: config.dropout }),
      new Linear({ inFeatures: last, outFeatures: config.numClasses }),
    );
    this.info = freezeInfo({
      name: 'mobilenetV2',
      inputSize: [224, 224, config.inChannels],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'features.0.0',
      classifier: 'classifier.1',
      featureInfo,
      flattenedFrom: {},
    });
    if (config.initWeights) {
      // torchvision: Kaiming normal fan-out convs, zero biases; N(0, 0.01) linear, zero bias.
      for (const [, m] of this.namedModules()) {
        if (m instanceof Conv2d) {
          reinit(m.weight, kaimingNormal({ mode: 'fanOut' }));
          reinit(m.bias, zeros());
        } else if (m instanceof Linear) {
          reinit(m.weight, normal({ std: 0.01 }));
          reinit(m.bias, zeros());
        }
      }
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    // [N, 224, 224, 3] -> features.0 [N, 112, 112, 32] -> features.17 [N, 7, 7, 320]
    // -> features.18 [N, 7, 7, 1280]
    return this.features.forward(x);
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.flatten.forward(this.avgpool.forward(features)); // [N, 1280]
      return this.classifier.forward(pooled); // [N, numClasses]
    });
  }

  protected featuresShape(input: Shape): Shape {
    return this.features.outputShape(input);
  }

  protected headShape(features: Shape): Shape {
    return this.classifier.outputShape(
      this.flatten.outputShape(this.avgpool.outputShape(features)),
    );
  }
}

/** torchvision's MobileNetV2; 3,504,872 parameters at `widthMult` 1 with 1000 classes. */
export function mobilenetV2(options: MobileNetV2Options = {}): MobileNetV2 {
  return new MobileNetV2({
    numClasses: 1000,
    inChannels: 3,
    initWeights: true,
    widthMult: 1,
    dropout: 0.2,
    ...options,
  });
}
