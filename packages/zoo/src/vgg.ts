import { kaimingNormal, normal, zeros } from '@convkit/initializers';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  type Module,
  ReLU,
  Sequential,
} from '@convkit/layers';
import type { ClassifierOptions } from './classifier-options';
import { reinit } from './internal/init';
import { positiveInteger, probability } from './internal/options';
import { PooledClassifierModel } from './internal/pooled-classifier-model';
import {
  type FeatureInfo,
  freezeInfo,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelInfo,
} from './zoo-model';

/** torchvision's layer lists: channel counts of the 3x3 convs, 'M' for a 2x2 max pool. */
const CONFIGS = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [
    64,
    64,
    'M',
    128,
    128,
    'M',
    256,
    256,
    256,
    256,
    'M',
    512,
    512,
    512,
    512,
    'M',
    512,
    512,
    512,
    512,
    'M',
  ],
} as const;

export type VGGVariant = keyof typeof CONFIGS;

export interface VGGOptions extends ClassifierOptions {
  /** Default 1000. */
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** BatchNorm after every conv (torchvision's `vgg16_bn`). Default false. */
  batchNorm?: boolean;
  /** Dropout before the second and third linear layers. Default 0.5. */
  dropout?: number;
}

export interface VGGConfig extends Required<VGGOptions> {
  name: string;
  variant: VGGVariant;
}

/**
 * VGG (Simonyan & Zisserman 2014) as torchvision: `features` (3x3 convs with padding 1, ReLU,
 * [BatchNorm], 2x2 max pools; keys `features.N`), a 7x7 adaptive average pool, and `classifier`
 * (Linear 25088 -> 4096, ReLU, Dropout, Linear 4096 -> 4096, ReLU, Dropout, Linear -> classes;
 * keys `classifier.0`, `classifier.3`, `classifier.6`).
 *
 * Shape: `[N, H, W, inChannels]` (H, W >= 32) -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, H / 32, W / 32, 512]`. `classifier.0` follows a flatten of `[512, 7, 7]`
 * (`info.flattenedFrom`).
 */
export class VGG extends PooledClassifierModel<VGGConfig> {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;
  readonly info: ModelInfo;

  constructor(config: VGGConfig) {
    positiveInteger(config.name, 'numClasses', config.numClasses);
    positiveInteger(config.name, 'inChannels', config.inChannels);
    probability(config.name, 'dropout', config.dropout);
    super(config);
    const layers: Module[] = [];
    const featureInfo: FeatureInfo[] = [];
    let channels = config.inChannels;
    let reduction = 1;
    for (const v of CONFIGS[config.variant]) {
      if (v === 'M') {
        layers.push(new MaxPool2d({ kernelSize: 2, stride: 2 }));
        reduction *= 2;
        featureInfo.push({ module: `features.${layers.length - 1}`, channels, reduction });
      } else {
        layers.push(
          new Conv2d({ inChannels: channels, outChannels: v, kernelSize: 3, padding: 1 }),
        );
        if (config.batchNorm) layers.push(new BatchNorm2d({ numFeatures: v }));
        layers.push(new ReLU());
        channels = v;
      }
    }
    this.features = new Sequential(...layers);
    this.avgpool = new AdaptiveAvgPool2d({ outputSize: [7, 7] });
    this.flatten = new Flatten();
    this.classifier = new Sequential(
      new Linear({ inFeatures: 512 * 7 * 7, outFeatures: 4096 }),
      new ReLU(),
      new Dropout({ p: config.dropout }),
      new Linear({ inFeatures: 4096, outFeatures: 4096 }),
      new ReLU(),
      new Dropout({ p: config.dropout }),
      new Linear({ inFeatures: 4096, outFeatures: config.numClasses }),
    );
    this.info = freezeInfo({
      name: config.name,
      inputSize: [224, 224, config.inChannels],
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      firstConv: 'features.0',
      classifier: 'classifier.6',
      featureInfo,
      flattenedFrom: { 'classifier.0': [512, 7, 7] },
    });
    if (config.initWeights) this.initialize();
  }

  /** torchvision's init: Kaiming normal (fan-out) convs, zero biases; N(0, 0.01) linears. */
  private initialize(): void {
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) {
        reinit(m.weight, kaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' }));
        reinit(m.bias, zeros());
      } else if (m instanceof Linear) {
        reinit(m.weight, normal({ std: 0.01 }));
        reinit(m.bias, zeros());
      }
    }
  }
}

function make(name: string, variant: VGGVariant, options: VGGOptions, batchNorm?: boolean): VGG {
  return new VGG({
    numClasses: 1000,
    inChannels: 3,
    initWeights: true,
    dropout: 0.5,
    batchNorm: false,
    ...options,
    ...(batchNorm ? { batchNorm } : {}),
    name: batchNorm || options.batchNorm ? `${name}Bn` : name,
    variant,
  });
}

/** VGG-11 (configuration A): 132,863,336 parameters (132,868,840 with `batchNorm`). */
export const vgg11 = (options: VGGOptions = {}): VGG => make('vgg11', 'A', options);
/** VGG-13 (configuration B): 133,047,848 parameters (133,053,736 with `batchNorm`). */
export const vgg13 = (options: VGGOptions = {}): VGG => make('vgg13', 'B', options);
/** VGG-16 (configuration D): 138,357,544 parameters (138,365,992 with `batchNorm`). */
export const vgg16 = (options: VGGOptions = {}): VGG => make('vgg16', 'D', options);
/** VGG-19 (configuration E): 143,667,240 parameters (143,678,248 with `batchNorm`). */
export const vgg19 = (options: VGGOptions = {}): VGG => make('vgg19', 'E', options);
/** VGG-11 with BatchNorm (torchvision's `vgg11_bn`). */
export const vgg11Bn = (options: VGGOptions = {}): VGG => make('vgg11', 'A', options, true);
/** VGG-13 with BatchNorm. */
export const vgg13Bn = (options: VGGOptions = {}): VGG => make('vgg13', 'B', options, true);
/** VGG-16 with BatchNorm. */
export const vgg16Bn = (options: VGGOptions = {}): VGG => make('vgg16', 'D', options, true);
/** VGG-19 with BatchNorm. */
export const vgg19Bn = (options: VGGOptions = {}): VGG => make('vgg19', 'E', options, true);
