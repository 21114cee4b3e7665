import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
} from '@convkit/layers';
import type { ClassifierOptions } from './classifier-options';
import { oneOf, positiveInteger, probability } from './internal/options';
import { PooledClassifierModel } from './internal/pooled-classifier-model';
import { freezeInfo, IMAGENET_MEAN, IMAGENET_STD, type ModelInfo } from './zoo-model';

export interface AlexNetOptions extends ClassifierOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Dropout before the first two linear layers. Default 0.5. */
  dropout?: number;
}

export interface AlexNetOriginalOptions extends AlexNetOptions {
  /**
   * 2 splits conv2, conv4 and conv5 into two groups, as the paper's two GPU towers (the
   * connectivity of Caffe's `bvlc_alexnet`); 1 (default) is the merged single-tower network.
   */
  groups?: 1 | 2;
}

export interface AlexNetConfig extends Required<AlexNetOriginalOptions> {
  name: string;
  variant: 'torchvision' | 'original';
}

/**
 * AlexNet in two variants.
 *
 * `torchvision` (`alexnet()`): torchvision's model (after "One weird trick", Krizhevsky 2014):
 * convs 64-192-384-256-256 (11x11 stride 4 pad 2, 5x5 pad 2, 3x3 pad 1), ReLU, three 3x3
 * stride-2 max pools, no LRN, a 6x6 adaptive average pool, classifier Dropout, Linear
 * 9216 -> 4096, ReLU, Dropout, Linear 4096 -> 4096, ReLU, Linear -> classes. Keys `features.0`,
 * `.3`, `.6`, `.8`, `.10`; `classifier.1`, `.4`, `.6`. 61,100,840 parameters.
 *
 * `original` (`alexnetOriginal()`): the paper's network (Krizhevsky, Sutskever & Hinton 2012)
 * with its channel counts 96-256-384-384-256, conv1 11x11 stride 4 without padding (227x227
 * input gives 55x55), LocalResponseNorm (size 5, alpha 1e-4, beta 0.75, k 2) after the ReLUs of
 * conv1 and conv2, the same overlapping pools and classifier. Keys `features.0` (conv1), `.4`
 * (conv2), `.8`, `.10`, `.12`; `classifier.1`, `.4`, `.6`. 62,378,344 parameters merged,
 * 60,965,224 with `groups: 2`.
 *
 * Shape: `[N, H, W, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives `[N, 6, 6, 256]`
 * at the design size. `classifier.1` follows a flatten of `[256, 6, 6]`.
 */
export class AlexNet extends PooledClassifierModel<AlexNetConfig> {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;
  readonly info: ModelInfo;

  constructor(config: AlexNetConfig) {
    positiveInteger(config.name, 'numClasses', config.numClasses);
    positiveInteger(config.name, 'inChannels', config.inChannels);
    probability(config.name, 'dropout', config.dropout);
    oneOf(config.name, 'groups', config.groups, [1, 2] as unknown as boolean[]);
    super(config);
    const conv = (i: number, o: number, k: number, s: number, p: number, groups = 1) =>
      new Conv2d({ inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: p, groups });
    const pool = () => new MaxPool2d({ kernelSize: 3, stride: 2 });
    const lrn = () => new LocalResponseNorm({ size: 5, alpha: 1e-4, beta: 0.75, k: 2 });
    const c = config.inChannels;
    const g = config.groups;
    if (config.variant === 'torchvision') {
      // 0 conv1 [N, 55, 55, 64], 2 pool [N, 27, 27, 64], 3 conv2 [N, 27, 27, 192],
      // 5 pool [N, 13, 13, 192], 6 conv3 [N, 13, 13, 384], 8 conv4 [N, 13, 13, 256],
      // 10 conv5 [N, 13, 13, 256], 12 pool [N, 6, 6, 256]
      this.features = new Sequential(
        ...[conv(c, 64, 11, 4, 2), new ReLU(), pool()],
        ...[conv(64, 192, 5, 1, 2), new ReLU(), pool()],
        ...[conv(192, 384, 3, 1, 1), new ReLU()],
        ...[conv(384, 256, 3, 1, 1), new ReLU()],
        ...[conv(256, 256, 3, 1, 1), new ReLU(), pool()],
      );
    } else {
      // 0 conv1 [N, 55, 55, 96], 2 LRN, 3 pool [N, 27, 27, 96], 4 conv2 [N, 27, 27, 256],
      // 6 LRN, 7 pool [N, 13, 13, 256], 8 conv3 [N, 13, 13, 384], 10 conv4 [N, 13, 13, 384],
      // 12 conv5 [N, 13, 13, 256], 14 pool [N, 6, 6, 256]
      this.features = new Sequential(
        ...[conv(c, 96, 11, 4, 0), new ReLU(), lrn(), pool()],
        ...[conv(96, 256, 5, 1, 2, g), new ReLU(), lrn(), pool()],
        ...[conv(256, 384, 3, 1, 1), new ReLU()],
        ...[conv(384, 384, 3, 1, 1, g), new ReLU()],
        ...[conv(384, 256, 3, 1, 1, g), new ReLU(), pool()],
      );
    }
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: [6, 6] });
    this.flatten = new Flatten();
    this.classifier = new Sequential(
      new Dropout({ p: config.dropout }),
      new Linear({ inFeatures: 256 * 6 * 6, outFeatures: 4096 }),
      new ReLU(),
      new Dropout({ p: config.dropout }),
      new Linear({ inFeatures: 4096, outFeatures: 4096 }),
      new ReLU(),
      new Linear({ inFeatures: 4096, outFeatures: config.numClasses }),
    );
    const original = config.variant === 'original';
    const pools = original ? [3, 7, 14] : [2, 5, 12];
    this.info = freezeInfo({
      name: config.name,
      inputSize: [original ? 227 : 224, original ? 227 : 224, c],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'features.0',
      classifier: 'classifier.6',
      featureInfo: [
        { module: `features.${pools[0]}`, channels: original ? 96 : 64, reduction: 8 },
        { module: `features.${pools[1]}`, channels: original ? 256 : 192, reduction: 16 },
        { module: `features.${pools[2]}`, channels: 256, reduction: 32 },
      ],
      flattenedFrom: { 'classifier.1': [256, 6, 6] },
    });
  }
}

const DEFAULTS = {
  numClasses: 1000,
  inChannels: 3,
  initWeights: true,
  dropout: 0.5,
  groups: 1 as const,
};

/** torchvision's AlexNet (64-192-384-256-256 channels, no LRN); 61,100,840 parameters. */
export function alexnet(options: AlexNetOptions = {}): AlexNet {
  return new AlexNet({
    ...DEFAULTS,
    ...options,
    groups: 1,
    name: 'alexnet',
    variant: 'torchvision',
  });
}

/**
 * The paper's AlexNet (96-256-384-384-256 channels, LRN, 227x227 input); 62,378,344
 * parameters, 60,965,224 with `groups: 2`. See `AlexNet`.
 */
export function alexnetOriginal(options: AlexNetOriginalOptions = {}): AlexNet {
  return new AlexNet({ ...DEFAULTS, ...options, name: 'alexnetOriginal', variant: 'original' });
}
