import { kaimingUniform, normal, zeros } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  type Shape,
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierOptions } from './classifier-options';
import { reinit } from './internal/init';
import { positiveInteger, probability } from './internal/options';
import { freezeInfo, IMAGENET_MEAN, IMAGENET_STD, type ModelInfo, ZooModel } from './zoo-model';

interface FireOptions {
  inplanes: number;
  squeezePlanes: number;
  expand1x1Planes: number;
  expand3x3Planes: number;
}

/**
 * SqueezeNet's Fire module with torchvision's keys: `squeeze` (1x1), `squeeze_activation`,
 * `expand1x1`, `expand1x1_activation`, `expand3x3` (3x3, padding 1), `expand3x3_activation`;
 * the two expand outputs concatenated on channels.
 *
 * Shape: `[N, H, W, inplanes]` -> `[N, H, W, expand1x1Planes + expand3x3Planes]`.
 */
export class Fire extends Module<FireOptions> {
  squeeze: Conv2d;
  squeeze_activation: ReLU;
  expand1x1: Conv2d;
  expand1x1_activation: ReLU;
  expand3x3: Conv2d;
  expand3x3_activation: ReLU;

  constructor(options: FireOptions) {
    super(options);
    const { inplanes, squeezePlanes: s } = options;
    this.squeeze = new Conv2d({ inChannels: inplanes, outChannels: s, kernelSize: 1 });
    this.squeeze_activation = new ReLU();
    this.expand1x1 = new Conv2d({
      inChannels: s,
      outChannels: options.expand1x1Planes,
      kernelSize: 1,
    });
    this.expand1x1_activation = new ReLU();
    this.expand3x3 = new Conv2d({
      inChannels: s,
      outChannels: options.expand3x3Planes,
      kernelSize: 3,
      padding: 1,
    });
    this.expand3x3_activation = new ReLU();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const s = this.squeeze_activation.forward(this.squeeze.forward(x)); // [N, H, W, squeeze]
      const e1 = this.expand1x1_activation.forward(this.expand1x1.forward(s)); // [N, H, W, e1]
      const e3 = this.expand3x3_activation.forward(this.expand3x3.forward(s)); // [N, H, W, e3]
      return tf.concat([e1, e3], 3); // [N, H, W, e1 + e3]
    });
  }

  outputShape(input: Shape): Shape {
    const s = this.squeeze.outputShape(input);
    const e1 = this.expand1x1.outputShape(s);
    const e3 = this.expand3x3.outputShape(s);
    return [e1[0], e1[1], e1[2], e1[3] + e3[3]];
  }
}

export interface SqueezeNetOptions extends ClassifierOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Dropout before the final conv. Default 0.5. */
  dropout?: number;
}

export interface SqueezeNetConfig extends Required<SqueezeNetOptions> {
  version: '1_0' | '1_1';
}

/**
 * SqueezeNet (Iandola et al. 2016) as torchvision: `features` (stem conv, ReLU, ceil-mode 3x3
 * stride-2 max pools, Fire modules at `features.3` ...) and a convolutional `classifier`
 * (Dropout, `final_conv` 1x1 to classes at `classifier.1`, ReLU, global average pool).
 * Version 1.0: 7x7 stride-2 stem with 96 channels, 1,248,424 parameters; version 1.1: 3x3
 * stride-2 stem with 64 channels and earlier pooling, 1,235,496 parameters.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, 13, 13, 512]` at 224x224.
 */
export class SqueezeNet extends ZooModel<SqueezeNetConfig> {
  features: Sequential;
  classifier: Sequential;
  flatten: Flatten;
  readonly info: ModelInfo;

  constructor(config: SqueezeNetConfig) {
    const where = `squeezenet${config.version}`;
    positiveInteger(where, 'numClasses', config.numClasses);
    positiveInteger(where, 'inChannels', config.inChannels);
    probability(where, 'dropout', config.dropout);
    super(config);
    const fire = (i: number, s: number, e1: number, e3: number) =>
      new Fire({ inplanes: i, squeezePlanes: s, expand1x1Planes: e1, expand3x3Planes: e3 });
    const pool = () => new MaxPool2d({ kernelSize: 3, stride: 2, ceilMode: true });
    const c = config.inChannels;
    let pools: number[];
    if (config.version === '1_0') {
      this.features = new Sequential(
        new Conv2d({ inChannels: c, outChannels: 96, kernelSize: 7, stride: 2 }), // [N, 109, 109, 96]
        new ReLU(),
        pool(), // 2: [N, 54, 54, 96]
        fire(96, 16, 64, 64),
        fire(128, 16, 64, 64),
        fire(128, 32, 128, 128),
        pool(), // 6: [N, 27, 27, 256]
        fire(256, 32, 128, 128),
        fire(256, 48, 192, 192),
        fire(384, 48, 192, 192),
        fire(384, 64, 256, 256),
        pool(), // 11: [N, 13, 13, 512]
        fire(512, 64, 256, 256), // 12: [N, 13, 13, 512]
      );
      pools = [2, 6, 11];
    } else {
      this.features = new Sequential(
        new Conv2d({ inChannels: c, outChannels: 64, kernelSize: 3, stride: 2 }), // [N, 111, 111, 64]
        new ReLU(),
        pool(), // 2: [N, 55, 55, 64]
        fire(64, 16, 64, 64),
        fire(128, 16, 64, 64),
        pool(), // 5: [N, 27, 27, 128]
        fire(128, 32, 128, 128),
        fire(256, 32, 128, 128),
        pool(), // 8: [N, 13, 13, 256]
        fire(256, 48, 192, 192),
        fire(384, 48, 192, 192),
        fire(384, 64, 256, 256),
        fire(512, 64, 256, 256), // 12: [N, 13, 13, 512]
      );
      pools = [2, 5, 8];
    }
    const finalConv = new Conv2d({
      inChannels: 512,
      outChannels: config.numClasses,
      kernelSize: 1,
    });
    this.classifier = new Sequential(
      new Dropout({ p: config.dropout }),
      finalConv,
      new ReLU(),
      new AdaptiveAvgPool2d({ outputSize: [1, 1] }),
    );
    this.flatten = new Flatten();
    const v10 = config.version === '1_0';
    this.info = freezeInfo({
      name: `squeezenet${config.version}`,
      inputSize: [224, 224, c],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'features.0',
      classifier: 'classifier.1',
      featureInfo: [
        { module: `features.${pools[0]}`, channels: v10 ? 96 : 64, reduction: 4 },
        { module: `features.${pools[1]}`, channels: v10 ? 256 : 128, reduction: 8 },
        { module: `features.${pools[2]}`, channels: v10 ? 512 : 256, reduction: 16 },
        { module: 'features.12', channels: 512, reduction: 16 },
      ],
      flattenedFrom: {},
    });
    if (config.initWeights) {
      // torchvision: N(0, 0.01) for the final conv, Kaiming uniform for the others; zero biases.
      for (const [, m] of this.namedModules()) {
        if (!(m instanceof Conv2d)) continue;
        reinit(m.weight, m === finalConv ? normal({ std: 0.01 }) : kaimingUniform());
        reinit(m.bias, zeros());
      }
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return this.features.forward(x); // [N, 224, 224, 3] -> [N, 13, 13, 512]
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.classifier.forward(features); // [N, 1, 1, numClasses]
      return this.flatten.forward(pooled); // [N, numClasses]
    });
  }

  protected featuresShape(input: Shape): Shape {
    return this.features.outputShape(input);
  }

  protected headShape(features: Shape): Shape {
    return this.flatten.outputShape(this.classifier.outputShape(features));
  }
}

const DEFAULTS = { numClasses: 1000, inChannels: 3, initWeights: true, dropout: 0.5 };

/** torchvision's SqueezeNet 1.0; 1,248,424 parameters. */
export function squeezenet1_0(options: SqueezeNetOptions = {}): SqueezeNet {
  return new SqueezeNet({ ...DEFAULTS, ...options, version: '1_0' });
}

/** torchvision's SqueezeNet 1.1 (2.4x less computation than 1.0); 1,235,496 parameters. */
export function squeezenet1_1(options: SqueezeNetOptions = {}): SqueezeNet {
  return new SqueezeNet({ ...DEFAULTS, ...options, version: '1_1' });
}
