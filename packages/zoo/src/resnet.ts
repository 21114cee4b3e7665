import { kaimingNormal } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  type Shape,
  SqueezeExcitation,
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierOptions } from './classifier-options';
import { fill, reinit } from './internal/init';
import { positiveInteger } from './internal/options';
import { freezeInfo, IMAGENET_MEAN, IMAGENET_STD, type ModelInfo, ZooModel } from './zoo-model';

interface BlockOptions {
  inplanes: number;
  planes: number;
  stride: number;
  /** Squeeze-and-excitation after the last BatchNorm, squeezing by this factor (0: none). */
  seReduction: number;
}

function conv3x3(inChannels: number, outChannels: number, stride = 1): Conv2d {
  return new Conv2d({ inChannels, outChannels, kernelSize: 3, stride, padding: 1, bias: false });
}

function conv1x1(inChannels: number, outChannels: number, stride = 1): Conv2d {
  return new Conv2d({ inChannels, outChannels, kernelSize: 1, stride, bias: false });
}

/** torchvision's `downsample`: a strided 1x1 conv and a BatchNorm (`downsample.0`, `.1`). */
function downsample(inplanes: number, outplanes: number, stride: number): Sequential | undefined {
  if (stride === 1 && inplanes === outplanes) return undefined;
  return new Sequential(
    conv1x1(inplanes, outplanes, stride),
    new BatchNorm2d({ numFeatures: outplanes }),
  );
}

function squeeze(channels: number, reduction: number): SqueezeExcitation | undefined {
  if (reduction === 0) return undefined;
  return new SqueezeExcitation({
    inputChannels: channels,
    squeezeChannels: Math.floor(channels / reduction),
  });
}

/**
 * torchvision's BasicBlock: 3x3 conv (stride), BN, ReLU, 3x3 conv, BN, [SE], + shortcut, ReLU.
 *
 * Shape: `[N, H, W, inplanes]` -> `[N, H / stride, W / stride, planes]`.
 * Keys: `conv1`, `bn1`, `conv2`, `bn2`, [`se.fc1`, `se.fc2`], [`downsample.0`, `downsample.1`].
 */
export class BasicBlock extends Module<BlockOptions> {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  se?: SqueezeExcitation;
  relu: ReLU;
  downsample?: Sequential;

  constructor(options: BlockOptions) {
    super(options);
    const { inplanes, planes, stride, seReduction } = options;
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d({ numFeatures: planes });
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d({ numFeatures: planes });
    this.se = squeeze(planes, seReduction);
    this.relu = new ReLU();
    this.downsample = downsample(inplanes, planes, stride);
  }

  /** The BatchNorm whose scale `zeroInitResidual` zeroes. */
  get lastNorm(): BatchNorm2d {
    return this.bn2;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const identity = this.downsample ? this.downsample.forward(x) : x; // [N, H/s, W/s, planes]
      let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x))); // [N, H/s, W/s, planes]
      out = this.bn2.forward(this.conv2.forward(out)); // [N, H/s, W/s, planes]
      if (this.se) out = this.se.forward(out); // [N, H/s, W/s, planes]
      return this.relu.forward(tf.add(out, identity)); // [N, H/s, W/s, planes]
    });
  }

  outputShape(input: Shape): Shape {
    let s = this.conv1.outputShape(input);
    s = this.conv2.outputShape(s);
    if (this.downsample) this.downsample.outputShape(input);
    return s;
  }
}

/**
 * torchvision's Bottleneck (ResNet v1.5: the stride is on the 3x3 conv): 1x1 conv, BN, ReLU,
 * 3x3 conv (stride), BN, ReLU, 1x1 conv to 4 * planes, BN, [SE], + shortcut, ReLU.
 *
 * Shape: `[N, H, W, inplanes]` -> `[N, H / stride, W / stride, 4 * planes]`.
 * Keys: `conv1`..`conv3`, `bn1`..`bn3`, [`se.fc1`, `se.fc2`], [`downsample.0`, `downsample.1`].
 */
export class Bottleneck extends Module<BlockOptions> {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  se?: SqueezeExcitation;
  relu: ReLU;
  downsample?: Sequential;

  constructor(options: BlockOptions) {
    super(options);
    const { inplanes, planes, stride, seReduction } = options;
    const out = planes * Bottleneck.expansion;
    this.conv1 = conv1x1(inplanes, planes);
    this.bn1 = new BatchNorm2d({ numFeatures: planes });
    this.conv2 = conv3x3(planes, planes, stride);
    this.bn2 = new BatchNorm2d({ numFeatures: planes });
    this.conv3 = conv1x1(planes, out);
    this.bn3 = new BatchNorm2d({ numFeatures: out });
    this.se = squeeze(out, seReduction);
    this.relu = new ReLU();
    this.downsample = downsample(inplanes, out, stride);
  }

  get lastNorm(): BatchNorm2d {
    return this.bn3;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const identity = this.downsample ? this.downsample.forward(x) : x; // [N, H/s, W/s, 4p]
      let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x))); // [N, H, W, p]
      out = this.relu.forward(this.bn2.forward(this.conv2.forward(out))); // [N, H/s, W/s, p]
      out = this.bn3.forward(this.conv3.forward(out)); // [N, H/s, W/s, 4p]
      if (this.se) out = this.se.forward(out); // [N, H/s, W/s, 4p]
      return this.relu.forward(tf.add(out, identity)); // [N, H/s, W/s, 4p]
    });
  }

  outputShape(input: Shape): Shape {
    let s = this.conv1.outputShape(input);
    s = this.conv2.outputShape(s);
    s = this.conv3.outputShape(s);
    if (this.downsample) this.downsample.outputShape(input);
    return s;
  }
}

export interface ResNetOptions extends ClassifierOptions {
  /** Default 1000 (ImageNet). */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Zero the scale of each block's last BatchNorm, so every block starts as the identity. */
  zeroInitResidual?: boolean;
}

export interface ResNetConfig extends Required<ResNetOptions> {
  /** The factory's name, for messages and `info`. */
  name: string;
  block: 'basic' | 'bottleneck';
  /** Blocks per stage. */
  layers: [number, number, number, number];
  /** SE reduction in every block; 0 for plain ResNet. */
  seReduction: number;
}

/**
 * ResNet (He et al. 2015) with torchvision's structure and state-dict keys: `conv1`, `bn1`,
 * `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`. Optional squeeze-and-excitation per block
 * (SE-ResNet).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, H / 32, W / 32, 512 * expansion]`.
 */
export class ResNet extends ZooModel<ResNetConfig> {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  maxpool: MaxPool2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  fc: Linear;
  readonly info: ModelInfo;

  constructor(config: ResNetConfig) {
    const where = config.name;
    positiveInteger(where, 'numClasses', config.numClasses);
    positiveInteger(where, 'inChannels', config.inChannels);
    super(config);
    const Block = config.block === 'basic' ? BasicBlock : Bottleneck;
    let inplanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number) => {
      const list: Module[] = [];
      for (let i = 0; i < blocks; i++) {
        list.push(
          new Block({
            inplanes,
            planes,
            stride: i === 0 ? stride : 1,
            seReduction: config.seReduction,
          }),
        );
        inplanes = planes * Block.expansion;
      }
      return new Sequential(...list);
    };
    this.conv1 = new Conv2d({
      inChannels: config.inChannels,
      outChannels: 64,
      kernelSize: 7,
      stride: 2,
      padding: 3,
      bias: false,
    });
    this.bn1 = new BatchNorm2d({ numFeatures: 64 });
    this.relu = new ReLU();
    this.maxpool = new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 });
    this.layer1 = makeLayer(64, config.layers[0], 1);
    this.layer2 = makeLayer(128, config.layers[1], 2);
    this.layer3 = makeLayer(256, config.layers[2], 2);
    this.layer4 = makeLayer(512, config.layers[3], 2);
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: 1 });
    this.flatten = new Flatten();
    const features = 512 * Block.expansion;
    this.fc = new Linear({ inFeatures: features, outFeatures: config.numClasses });
    this.info = freezeInfo({
      name: config.name,
      inputSize: [224, 224, config.inChannels],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'conv1',
      classifier: 'fc',
      featureInfo: [
        { module: 'relu', channels: 64, reduction: 2 },
        { module: 'layer1', channels: 64 * Block.expansion, reduction: 4 },
        { module: 'layer2', channels: 128 * Block.expansion, reduction: 8 },
        { module: 'layer3', channels: 256 * Block.expansion, reduction: 16 },
        { module: 'layer4', channels: 512 * Block.expansion, reduction: 32 },
      ],
      flattenedFrom: {},
    });
    if (config.initWeights) this.initialize();
  }

  /** torchvision's init: Kaiming normal (fan-out, ReLU) convs; BN scale 1, shift 0. */
  private initialize(): void {
    const init = kaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' });
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) reinit(m.weight, init);
      if ((m instanceof BasicBlock || m instanceof Bottleneck) && this.config.zeroInitResidual) {
        fill(m.lastNorm.weight, 0);
      }
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.conv1.forward(x); // [N, 112, 112, 64]
      h = this.relu.forward(this.bn1.forward(h)); // [N, 112, 112, 64]
      h = this.maxpool.forward(h); // [N, 56, 56, 64]
      h = this.layer1.forward(h); // [N, 56, 56, 64 * e]
      h = this.layer2.forward(h); // [N, 28, 28, 128 * e]
      h = this.layer3.forward(h); // [N, 14, 14, 256 * e]
      return this.layer4.forward(h); // [N, 7, 7, 512 * e]
    });
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.avgpool.forward(features); // [N, 1, 1, 512 * e]
      return this.fc.forward(this.flatten.forward(pooled)); // [N, numClasses]
    });
  }

  protected featuresShape(input: Shape): Shape {
    let s = this.conv1.outputShape(input);
    s = this.maxpool.outputShape(s);
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) {
      s = layer.outputShape(s);
    }
    return s;
  }

  protected headShape(features: Shape): Shape {
    return this.fc.outputShape(this.flatten.outputShape(this.avgpool.outputShape(features)));
  }
}

const RESNET_DEFAULTS = {
  numClasses: 1000,
  inChannels: 3,
  initWeights: true,
  zeroInitResidual: false,
};

/** Build a ResNet configuration (internal to the family's factories). */
export function resnetConfig(
  name: string,
  block: ResNetConfig['block'],
  layers: ResNetConfig['layers'],
  options: ResNetOptions,
  seReduction = 0,
): ResNetConfig {
  return { ...RESNET_DEFAULTS, ...options, name, block, layers, seReduction };
}

/** ResNet-18: BasicBlock x [2, 2, 2, 2]; 11,689,512 parameters with 1000 classes. */
export function resnet18(options: ResNetOptions = {}): ResNet {
  return new ResNet(resnetConfig('resnet18', 'basic', [2, 2, 2, 2], options));
}

/** ResNet-34: BasicBlock x [3, 4, 6, 3]; 21,797,672 parameters. */
export function resnet34(options: ResNetOptions = {}): ResNet {
  return new ResNet(resnetConfig('resnet34', 'basic', [3, 4, 6, 3], options));
}

/** ResNet-50: Bottleneck x [3, 4, 6, 3]; 25,557,032 parameters. */
export function resnet50(options: ResNetOptions = {}): ResNet {
  return new ResNet(resnetConfig('resnet50', 'bottleneck', [3, 4, 6, 3], options));
}

/** ResNet-101: Bottleneck x [3, 4, 23, 3]; 44,549,160 parameters. */
export function resnet101(options: ResNetOptions = {}): ResNet {
  return new ResNet(resnetConfig('resnet101', 'bottleneck', [3, 4, 23, 3], options));
}

/** ResNet-152: Bottleneck x [3, 8, 36, 3]; 60,192,808 parameters. */
export function resnet152(options: ResNetOptions = {}): ResNet {
  return new ResNet(resnetConfig('resnet152', 'bottleneck', [3, 8, 36, 3], options));
}
