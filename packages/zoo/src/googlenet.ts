import { truncatedNormal } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
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

interface BasicConv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
}

/**
 * torchvision's GoogLeNet BasicConv2d: conv without bias, BatchNorm (eps 0.001), ReLU.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H', W', outChannels]`. Keys `conv.weight`, `bn.*`.
 */
export class BasicConv2d extends Module<BasicConv2dOptions> {
  conv: Conv2d;
  bn: BatchNorm2d;
  relu: ReLU;

  constructor(options: BasicConv2dOptions) {
    super(options);
    this.conv = new Conv2d({ ...options, bias: false });
    this.bn = new BatchNorm2d({ numFeatures: options.outChannels, eps: 0.001 });
    this.relu = new ReLU();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.relu.forward(this.bn.forward(this.conv.forward(x))));
  }

  outputShape(input: Shape): Shape {
    return this.conv.outputShape(input);
  }
}

interface InceptionOptions {
  inChannels: number;
  ch1x1: number;
  ch3x3red: number;
  ch3x3: number;
  ch5x5red: number;
  ch5x5: number;
  poolProj: number;
  /** The third branch's second conv is 5x5 (the paper) instead of torchvision's 3x3. */
  paper5x5: boolean;
}

const basic = (inChannels: number, outChannels: number, kernelSize: number, padding = 0) =>
  new BasicConv2d({ inChannels, outChannels, kernelSize, padding });

/**
 * An Inception module as torchvision: `branch1` 1x1; `branch2` 1x1 reduction then 3x3;
 * `branch3` 1x1 reduction then 3x3 (torchvision's, a known deviation from the paper's 5x5;
 * `paper5x5` restores it); `branch4` 3x3 max pool (stride 1, padding 1) then 1x1 projection;
 * outputs concatenated on channels.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, H, W, ch1x1 + ch3x3 + ch5x5 + poolProj]`.
 */
export class Inception extends Module<InceptionOptions> {
  branch1: BasicConv2d;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;

  constructor(options: InceptionOptions) {
    super(options);
    const o = options;
    this.branch1 = basic(o.inChannels, o.ch1x1, 1);
    this.branch2 = new Sequential(
      basic(o.inChannels, o.ch3x3red, 1),
      basic(o.ch3x3red, o.ch3x3, 3, 1),
    );
    this.branch3 = new Sequential(
      basic(o.inChannels, o.ch5x5red, 1),
      o.paper5x5 ? basic(o.ch5x5red, o.ch5x5, 5, 2) : basic(o.ch5x5red, o.ch5x5, 3, 1),
    );
    this.branch4 = new Sequential(
      new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1, ceilMode: true }),
      basic(o.inChannels, o.poolProj, 1),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.concat(
        [
          this.branch1.forward(x), // [N, H, W, ch1x1]
          this.branch2.forward(x), // [N, H, W, ch3x3]
          this.branch3.forward(x), // [N, H, W, ch5x5]
          this.branch4.forward(x), // [N, H, W, poolProj]
        ],
        3,
      ),
    );
  }

  outputShape(input: Shape): Shape {
    const shapes = [this.branch1, this.branch2, this.branch3, this.branch4].map((b) =>
      b.outputShape(input),
    );
    return [...shapes[0].slice(0, 3), shapes.reduce((sum, s) => sum + s[3], 0)];
  }
}

interface InceptionAuxOptions {
  inChannels: number;
  numClasses: number;
  dropout: number;
}

/**
 * torchvision's auxiliary classifier: 4x4 adaptive average pool, BasicConv2d 1x1 to 128,
 * flatten, Linear 2048 -> 1024 (`fc1`, after a flatten of `[128, 4, 4]`), ReLU, Dropout,
 * Linear 1024 -> classes (`fc2`).
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`.
 */
export class InceptionAux extends Module<InceptionAuxOptions> {
  conv: BasicConv2d;
  fc1: Linear;
  fc2: Linear;
  dropout: Dropout;
  pool: AdaptiveAvgPool2d;
  flatten: Flatten;
  relu: ReLU;

  constructor(options: InceptionAuxOptions) {
    super(options);
    this.conv = basic(options.inChannels, 128, 1);
    this.fc1 = new Linear({ inFeatures: 2048, outFeatures: 1024 });
    this.fc2 = new Linear({ inFeatures: 1024, outFeatures: options.numClasses });
    this.dropout = new Dropout({ p: options.dropout });
    this.pool = new AdaptiveAvgPool2d({ outputSize: [4, 4] });
    this.flatten = new Flatten();
    this.relu = new ReLU();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.pool.forward(x); // [N, 4, 4, C]
      h = this.flatten.forward(this.conv.forward(h)); // [N, 2048]
      h = this.dropout.forward(this.relu.forward(this.fc1.forward(h))); // [N, 1024]
      return this.fc2.forward(h); // [N, numClasses]
    });
  }

  outputShape(input: Shape): Shape {
    const h = this.flatten.outputShape(this.conv.outputShape(this.pool.outputShape(input)));
    return this.fc2.outputShape(this.fc1.outputShape(h));
  }
}

export interface GoogLeNetOptions extends ClassifierOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 3; `transformInput` needs 3. */
  inChannels?: number;
  /** Build the auxiliary classifiers `aux1`, `aux2` (they run only in training). Default true, as torchvision. */
  auxLogits?: boolean;
  /**
   * Re-normalize inputs prepared with ImageNet mean / std to the [-1, 1] scaling of Google's
   * original weights (torchvision's `transform_input`). Default false, as torchvision when not
   * loading its pretrained weights.
   */
  transformInput?: boolean;
  /** Dropout before `fc`. Default 0.2. */
  dropout?: number;
  /** Dropout inside the auxiliary classifiers. Default 0.7. */
  dropoutAux?: number;
  /** Use real 5x5 convs in the third branch of each Inception module (the paper). Default false. */
  paper5x5?: boolean;
}

export type GoogLeNetConfig = Required<GoogLeNetOptions>;

/**
 * What `GoogLeNet.forward` returns in training mode when it has auxiliary classifiers
 * (torchvision's `GoogLeNetOutputs`): the main logits and `[aux1, aux2]`. The trainer of
 * `@convkit/train` adds the auxiliary losses weighted by 0.3.
 */
export type GoogLeNetOutputs = {
  logits: tf.Tensor;
  aux: [tf.Tensor, tf.Tensor];
};

/**
 * GoogLeNet (Inception v1, Szegedy et al. 2014) with torchvision's layout and keys: BasicConv2d
 * stem (`conv1`, `conv2`, `conv3`), Inception modules `inception3a` ... `inception5b` (torchvision's
 * 3x3 "5x5" branch unless `paper5x5`), ceil-mode max pools, auxiliary classifiers `aux1` (after
 * 4a) and `aux2` (after 4d), global average pool, dropout 0.2, `fc`. 6,624,904 parameters
 * without the auxiliary classifiers, 13,004,888 with them.
 *
 * `forward` returns the logits `[N, numClasses]` in eval mode (or without `auxLogits`), and in
 * training mode with `auxLogits` a `GoogLeNetOutputs` object `{ logits, aux: [aux1, aux2] }`
 * (typed as a tensor to fit `Module.forward`; `@convkit/train` reads either).
 * `forwardFeatures` gives `[N, H / 32, W / 32, 1024]` and never runs the auxiliary heads.
 */
export class GoogLeNet extends ZooModel<GoogLeNetConfig, tf.Tensor | GoogLeNetOutputs> {
  conv1: BasicConv2d;
  maxpool1: MaxPool2d;
  conv2: BasicConv2d;
  conv3: BasicConv2d;
  maxpool2: MaxPool2d;
  inception3a: Inception;
  inception3b: Inception;
  maxpool3: MaxPool2d;
  inception4a: Inception;
  inception4b: Inception;
  inception4c: Inception;
  inception4d: Inception;
  inception4e: Inception;
  maxpool4: MaxPool2d;
  inception5a: Inception;
  inception5b: Inception;
  aux1?: InceptionAux;
  aux2?: InceptionAux;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  dropout: Dropout;
  fc: Linear;
  readonly info: ModelInfo;

  constructor(config: GoogLeNetConfig) {
    const where = 'googlenet';
    positiveInteger(where, 'numClasses', config.numClasses);
    positiveInteger(where, 'inChannels', config.inChannels);
    probability(where, 'dropout', config.dropout);
    probability(where, 'dropoutAux', config.dropoutAux);
    if (config.transformInput && config.inChannels !== 3) {
      throw new Error(
        `${where}: transformInput re-normalizes 3 RGB channels, received inChannels ${config.inChannels}`,
      );
    }
    super(config);
    const inception = (...c: number[]) =>
      new Inception({
        inChannels: c[0],
        ch1x1: c[1],
        ch3x3red: c[2],
        ch3x3: c[3],
        ch5x5red: c[4],
        ch5x5: c[5],
        poolProj: c[6],
        paper5x5: config.paper5x5,
      });
    const pool = (kernelSize: number) => new MaxPool2d({ kernelSize, stride: 2, ceilMode: true });
    this.conv1 = new BasicConv2d({
      inChannels: config.inChannels,
      outChannels: 64,
      kernelSize: 7,
      stride: 2,
      padding: 3,
    });
    this.maxpool1 = pool(3);
    this.conv2 = basic(64, 64, 1);
    this.conv3 = basic(64, 192, 3, 1);
    this.maxpool2 = pool(3);
    this.inception3a = inception(192, 64, 96, 128, 16, 32, 32);
    this.inception3b = inception(256, 128, 128, 192, 32, 96, 64);
    this.maxpool3 = pool(3);
    this.inception4a = inception(480, 192, 96, 208, 16, 48, 64);
    this.inception4b = inception(512, 160, 112, 224, 24, 64, 64);
    this.inception4c = inception(512, 128, 128, 256, 24, 64, 64);
    this.inception4d = inception(512, 112, 144, 288, 32, 64, 64);
    this.inception4e = inception(528, 256, 160, 320, 32, 128, 128);
    this.maxpool4 = pool(2);
    this.inception5a = inception(832, 256, 160, 320, 32, 128, 128);
    this.inception5b = inception(832, 384, 192, 384, 48, 128, 128);
    if (config.auxLogits) {
      const aux = { numClasses: config.numClasses, dropout: config.dropoutAux };
      this.aux1 = new InceptionAux({ inChannels: 512, ...aux });
      this.aux2 = new InceptionAux({ inChannels: 528, ...aux });
    }
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: [1, 1] });
    this.flatten = new Flatten();
    this.dropout = new Dropout({ p: config.dropout });
    this.fc = new Linear({ inFeatures: 1024, outFeatures: config.numClasses });
    this.info = freezeInfo({
      name: 'googlenet',
      inputSize: [224, 224, config.inChannels],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'conv1.conv',
      classifier: 'fc',
      featureInfo: [
        { module: 'conv1', channels: 64, reduction: 2 },
        { module: 'conv3', channels: 192, reduction: 4 },
        { module: 'inception3b', channels: 480, reduction: 8 },
        { module: 'inception4e', channels: 832, reduction: 16 },
        { module: 'inception5b', channels: 1024, reduction: 32 },
      ],
      flattenedFrom: config.auxLogits ? { 'aux1.fc1': [128, 4, 4], 'aux2.fc1': [128, 4, 4] } : {},
    });
    if (config.initWeights) {
      // torchvision: truncated normal (std 0.01, cut at +-2) for conv and linear weights.
      const init = truncatedNormal({ std: 0.01, low: -2, high: 2 });
      for (const [, m] of this.namedModules()) {
        if (m instanceof Conv2d || m instanceof Linear) reinit(m.weight, init);
      }
    }
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  /** torchvision's `_transform_input`: ImageNet mean / std scaling to [-1, 1] scaling. */
  private transform(x: tf.Tensor): tf.Tensor {
    if (!this.config.transformInput) return x;
    return tf.tidy(() => {
      const scale = tf.tensor1d(IMAGENET_STD.map((s) => s / 0.5));
      const shift = tf.tensor1d(IMAGENET_MEAN.map((m) => (m - 0.5) / 0.5));
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  /** The stem through inception4a. */
  private stem(x: tf.Tensor): tf.Tensor {
    let h = this.conv1.forward(this.transform(x)); // [N, 112, 112, 64]
    h = this.maxpool1.forward(h); // [N, 56, 56, 64]
    h = this.conv3.forward(this.conv2.forward(h)); // [N, 56, 56, 192]
    h = this.maxpool2.forward(h); // [N, 28, 28, 192]
    h = this.inception3b.forward(this.inception3a.forward(h)); // [N, 28, 28, 480]
    h = this.maxpool3.forward(h); // [N, 14, 14, 480]
    return this.inception4a.forward(h); // [N, 14, 14, 512]
  }

  /** inception4b through inception4d. */
  private middle(h: tf.Tensor): tf.Tensor {
    h = this.inception4b.forward(h); // [N, 14, 14, 512]
    h = this.inception4c.forward(h); // [N, 14, 14, 512]
    return this.inception4d.forward(h); // [N, 14, 14, 528]
  }

  /** inception4e through inception5b. */
  private tail(h: tf.Tensor): tf.Tensor {
    h = this.inception4e.forward(h); // [N, 14, 14, 832]
    h = this.maxpool4.forward(h); // [N, 7, 7, 832]
    h = this.inception5a.forward(h); // [N, 7, 7, 832]
    return this.inception5b.forward(h); // [N, 7, 7, 1024]
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.tail(this.middle(this.stem(x))));
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.flatten.forward(this.avgpool.forward(features)); // [N, 1024]
      return this.fc.forward(this.dropout.forward(pooled)); // [N, numClasses]
    });
  }

  override forward(x: tf.Tensor): tf.Tensor | GoogLeNetOutputs {
    if (!(this.training && this.aux1 && this.aux2)) return super.forward(x);
    this.checkInput(x.shape);
    const { aux1, aux2 } = this;
    const outputs: GoogLeNetOutputs = tf.tidy(() => {
      const a = this.stem(x); // [N, 14, 14, 512]
      const first = aux1.forward(a); // [N, numClasses]
      const b = this.middle(a); // [N, 14, 14, 528]
      const second = aux2.forward(b); // [N, numClasses]
      const logits = this.forwardHead(this.tail(b)); // [N, numClasses]
      return { logits, aux: [first, second] as [tf.Tensor, tf.Tensor] };
    });
    return outputs; // torchvision's GoogLeNetOutputs in training
  }

  protected featuresShape(input: Shape): Shape {
    let s = this.conv1.outputShape(input);
    s = this.maxpool1.outputShape(s);
    s = this.conv3.outputShape(this.conv2.outputShape(s));
    s = this.maxpool2.outputShape(s);
    s = this.inception3b.outputShape(this.inception3a.outputShape(s));
    s = this.maxpool3.outputShape(s);
    s = this.inception4a.outputShape(s);
    if (this.aux1) this.aux1.outputShape(s);
    s = this.inception4d.outputShape(this.inception4c.outputShape(this.inception4b.outputShape(s)));
    if (this.aux2) this.aux2.outputShape(s);
    s = this.maxpool4.outputShape(this.inception4e.outputShape(s));
    return this.inception5b.outputShape(this.inception5a.outputShape(s));
  }

  protected headShape(features: Shape): Shape {
    return this.fc.outputShape(this.flatten.outputShape(this.avgpool.outputShape(features)));
  }
}

/**
 * torchvision's GoogLeNet (see `GoogLeNet`). Defaults as torchvision without pretrained
 * weights: `auxLogits: true`, `transformInput: false`, `dropout: 0.2`, `dropoutAux: 0.7`.
 */
export function googlenet(options: GoogLeNetOptions = {}): GoogLeNet {
  return new GoogLeNet({
    numClasses: 1000,
    inChannels: 3,
    initWeights: true,
    auxLogits: true,
    transformInput: false,
    dropout: 0.2,
    dropoutAux: 0.7,
    paper5x5: false,
    ...options,
  });
}
