import { kaimingNormal } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  Module,
  ReLU,
  Sequential,
  type Shape,
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierOptions } from './classifier-options';
import { reinit } from './internal/init';
import { oneOf, positiveInteger } from './internal/options';
import { freezeInfo, type ModelInfo, ZooModel } from './zoo-model';

/** 'A': identity shortcut, subsampled and zero-padded on channels (no parameters); 'B': 1x1 conv + BN. */
export type CifarShortcut = 'A' | 'B';

/**
 * `x[:, ::s, ::s, :]` (PyTorch's `x[:, :, ::2, ::2]`) from differentiable ops: tfjs has no
 * gradient for stridedSlice, so a 1x1 average pool with stride s (each window one pixel: exact),
 * whose gradient every backend has; ceil(H / s) rows, as the strided slice. 13x faster in
 * forward + backward on wasm than a pad / rank-6 reshape / slice.
 */
function subsample(x: tf.Tensor, s: number): tf.Tensor {
  return s === 1 ? x : tf.avgPool(x as tf.Tensor4D, 1, s, 'valid');
}

interface CifarBlockOptions {
  inplanes: number;
  planes: number;
  stride: number;
  shortcut: CifarShortcut;
}

/**
 * The CIFAR basic block of He et al. 2016 (section 4.2): 3x3 conv (stride), BN, ReLU, 3x3 conv,
 * BN, + shortcut, ReLU. Where the shape changes the shortcut is option A (every second pixel,
 * channels zero-padded planes / 4 on each side) or option B (`downsample.0` 1x1 conv,
 * `downsample.1` BN, named as torchvision's).
 *
 * Shape: `[N, H, W, inplanes]` -> `[N, ceil(H / stride), ceil(W / stride), planes]`.
 */
export class CifarBasicBlock extends Module<CifarBlockOptions> {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  relu: ReLU;
  downsample?: Sequential;
  private readonly project: boolean;

  constructor(options: CifarBlockOptions) {
    super(options);
    const { inplanes, planes, stride, shortcut } = options;
    const conv3x3 = (i: number, s: number) =>
      new Conv2d({
        inChannels: i,
        outChannels: planes,
        kernelSize: 3,
        stride: s,
        padding: 1,
        bias: false,
      });
    this.conv1 = conv3x3(inplanes, stride);
    this.bn1 = new BatchNorm2d({ numFeatures: planes });
    this.conv2 = conv3x3(planes, 1);
    this.bn2 = new BatchNorm2d({ numFeatures: planes });
    this.relu = new ReLU();
    this.project = stride !== 1 || inplanes !== planes;
    if (this.project && shortcut === 'B') {
      this.downsample = new Sequential(
        new Conv2d({
          inChannels: inplanes,
          outChannels: planes,
          kernelSize: 1,
          stride,
          bias: false,
        }),
        new BatchNorm2d({ numFeatures: planes }),
      );
    }
    if (this.project && shortcut === 'A' && (planes - inplanes) % 2 !== 0) {
      throw new Error(
        `CifarBasicBlock: option A pads channels evenly; received inplanes ${inplanes}, planes ${planes}`,
      );
    }
  }

  private shortcut(x: tf.Tensor): tf.Tensor {
    if (!this.project) return x;
    if (this.downsample) return this.downsample.forward(x);
    const { stride, planes, inplanes } = this.config;
    const pad = (planes - inplanes) / 2;
    return tf.pad(subsample(x, stride), [
      [0, 0],
      [0, 0],
      [0, 0],
      [pad, pad],
    ]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const identity = this.shortcut(x); // [N, H/s, W/s, planes]
      let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x))); // [N, H/s, W/s, planes]
      out = this.bn2.forward(this.conv2.forward(out)); // [N, H/s, W/s, planes]
      return this.relu.forward(tf.add(out, identity));
    });
  }

  outputShape(input: Shape): Shape {
    return this.conv2.outputShape(this.conv1.outputShape(input));
  }
}

export interface CifarResNetOptions extends ClassifierOptions {
  /** Default 10 (CIFAR-10). */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Default 'A', the paper's choice for CIFAR (parameter-free). */
  shortcut?: CifarShortcut;
}

export interface CifarResNetConfig extends Required<CifarResNetOptions> {
  /** 6n + 2. */
  depth: number;
}

/**
 * ResNet for CIFAR (He et al. 2016, section 4.2): a 3x3 conv to 16 channels, BN, ReLU, three
 * stages `layer1` .. `layer3` of n basic blocks with 16, 32, 64 channels (strides 1, 2, 2),
 * global average pool, `fc`. Depth 6n + 2: ResNet-20 has n = 3 (269,722 parameters with
 * option A, 272,474 with option B), ResNet-56 n = 9 (853,018). Keys follow torchvision's
 * ResNet (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, H / 4, W / 4, 64]`.
 */
export class CifarResNet extends ZooModel<CifarResNetConfig> {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  fc: Linear;
  readonly info: ModelInfo;

  constructor(config: CifarResNetConfig) {
    const name = `cifarResnet${config.depth}`;
    positiveInteger(name, 'numClasses', config.numClasses);
    positiveInteger(name, 'inChannels', config.inChannels);
    oneOf(name, 'shortcut', config.shortcut, ['A', 'B']);
    if (!Number.isInteger(config.depth) || config.depth < 8 || (config.depth - 2) % 6 !== 0) {
      throw new Error(
        `cifarResnet: expected depth 6n + 2 (20, 32, 44, 56, 110, ...), received ${config.depth}`,
      );
    }
    super(config);
    const n = (config.depth - 2) / 6;
    let inplanes = 16;
    const stage = (planes: number, stride: number) => {
      const blocks: Module[] = [];
      for (let i = 0; i < n; i++) {
        blocks.push(
          new CifarBasicBlock({
            inplanes,
            planes,
            stride: i === 0 ? stride : 1,
            shortcut: config.shortcut,
          }),
        );
        inplanes = planes;
      }
      return new Sequential(...blocks);
    };
    this.conv1 = new Conv2d({
      inChannels: config.inChannels,
      outChannels: 16,
      kernelSize: 3,
      padding: 1,
      bias: false,
    });
    this.bn1 = new BatchNorm2d({ numFeatures: 16 });
    this.relu = new ReLU();
    this.layer1 = stage(16, 1);
    this.layer2 = stage(32, 2);
    this.layer3 = stage(64, 2);
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: [1, 1] });
    this.flatten = new Flatten();
    this.fc = new Linear({ inFeatures: 64, outFeatures: config.numClasses });
    this.info = freezeInfo({
      name,
      inputSize: [32, 32, config.inChannels],
      mean: [0.4914, 0.4822, 0.4465],
      std: [0.247, 0.2435, 0.2616],
      firstConv: 'conv1',
      classifier: 'fc',
      featureInfo: [
        { module: 'layer1', channels: 16, reduction: 1 },
        { module: 'layer2', channels: 32, reduction: 2 },
        { module: 'layer3', channels: 64, reduction: 4 },
      ],
      flattenedFrom: {},
    });
    if (config.initWeights) {
      // He et al.: Kaiming normal (fan-in) convs.
      const init = kaimingNormal({ nonlinearity: 'relu' });
      for (const [, m] of this.namedModules()) if (m instanceof Conv2d) reinit(m.weight, init);
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.relu.forward(this.bn1.forward(this.conv1.forward(x))); // [N, 32, 32, 16]
      h = this.layer1.forward(h); // [N, 32, 32, 16]
      h = this.layer2.forward(h); // [N, 16, 16, 32]
      return this.layer3.forward(h); // [N, 8, 8, 64]
    });
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.flatten.forward(this.avgpool.forward(features)); // [N, 64]
      return this.fc.forward(pooled); // [N, numClasses]
    });
  }

  protected featuresShape(input: Shape): Shape {
    let s = this.conv1.outputShape(input);
    for (const layer of [this.layer1, this.layer2, this.layer3]) s = layer.outputShape(s);
    return s;
  }

  protected headShape(features: Shape): Shape {
    return this.fc.outputShape(this.flatten.outputShape(this.avgpool.outputShape(features)));
  }
}

const DEFAULTS = { numClasses: 10, inChannels: 3, initWeights: true, shortcut: 'A' as const };

/** CIFAR ResNet of any depth 6n + 2 (see `CifarResNet`). */
export function cifarResnet(depth: number, options: CifarResNetOptions = {}): CifarResNet {
  return new CifarResNet({ ...DEFAULTS, ...options, depth });
}

/** CIFAR ResNet-20 (n = 3); 269,722 parameters with option A shortcuts. */
export const cifarResnet20 = (options: CifarResNetOptions = {}): CifarResNet =>
  cifarResnet(20, options);

/** CIFAR ResNet-56 (n = 9); 853,018 parameters with option A shortcuts. */
export const cifarResnet56 = (options: CifarResNetOptions = {}): CifarResNet =>
  cifarResnet(56, options);
