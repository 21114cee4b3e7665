import {
  AvgPool2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  type Module,
  ReLU,
  Sequential,
  type Shape,
  Tanh,
} from '@convkit/layers';
import type * as tf from '@tensorflow/tfjs-core';
import type { ClassifierOptions } from './classifier-options';
import { oneOf, positiveInteger } from './internal/options';
import { freezeInfo, type ModelInfo, ZooModel } from './zoo-model';

export interface LeNet5Options extends ClassifierOptions {
  /** Default 10. */
  numClasses?: number;
  /** Default 1 (MNIST). */
  inChannels?: number;
  /** Default 'relu'; 'tanh' as in 1998. */
  activation?: 'relu' | 'tanh';
  /** Default 'max'; 'avg' (subsampling) as in 1998. */
  pool?: 'max' | 'avg';
}

export interface LeNet5Config extends Required<LeNet5Options> {
  name: string;
}

/**
 * LeNet-5 in its classic modern form, for 28x28 inputs: conv 1 -> 6 5x5 padding 2, activation,
 * 2x2 pool, conv 6 -> 16 5x5, activation, 2x2 pool, flatten (400), Linear 400 -> 120 -> 84 ->
 * classes with activations between. `lenet5Original()` uses tanh and average pooling, as LeCun
 * et al. 1998; it does not reproduce the paper's partial C3 connectivity, scaled tanh, trainable
 * subsampling coefficients or RBF output layer.
 *
 * Shape: `[N, 28, 28, inChannels]` -> `[N, numClasses]`; `forwardFeatures` gives
 * `[N, 5, 5, 16]`. Keys `features.0`, `features.3`, `classifier.0`, `.2`, `.4`;
 * `classifier.0` follows a flatten of `[16, 5, 5]`. 61,706 parameters.
 */
export class LeNet5 extends ZooModel<LeNet5Config> {
  features: Sequential;
  flatten: Flatten;
  classifier: Sequential;
  readonly info: ModelInfo;

  constructor(config: LeNet5Config) {
    positiveInteger(config.name, 'numClasses', config.numClasses);
    positiveInteger(config.name, 'inChannels', config.inChannels);
    oneOf(config.name, 'activation', config.activation, ['relu', 'tanh']);
    oneOf(config.name, 'pool', config.pool, ['max', 'avg']);
    super(config);
    const act = (): Module => (config.activation === 'relu' ? new ReLU() : new Tanh());
    const pool = (): Module =>
      config.pool === 'max' ? new MaxPool2d({ kernelSize: 2 }) : new AvgPool2d({ kernelSize: 2 });
    this.features = new Sequential(
      new Conv2d({ inChannels: config.inChannels, outChannels: 6, kernelSize: 5, padding: 2 }),
      act(),
      pool(),
      new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
      act(),
      pool(),
    );
    this.flatten = new Flatten();
    this.classifier = new Sequential(
      new Linear({ inFeatures: 400, outFeatures: 120 }),
      act(),
      new Linear({ inFeatures: 120, outFeatures: 84 }),
      act(),
      new Linear({ inFeatures: 84, outFeatures: config.numClasses }),
    );
    this.info = freezeInfo({
      name: config.name,
      inputSize: [28, 28, config.inChannels],
      mean: [0.1307],
      std: [0.3081],
      firstConv: 'features.0',
      classifier: 'classifier.4',
      featureInfo: [
        { module: 'features.2', channels: 6, reduction: 2 },
        { module: 'features.5', channels: 16, reduction: 4 },
      ],
      flattenedFrom: { 'classifier.0': [16, 5, 5] },
    });
  }

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return this.features.forward(x); // [N, 28, 28, 1] -> [N, 14, 14, 6] -> [N, 5, 5, 16]
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    // [N, 5, 5, 16] -> [N, 400] -> [N, 120] -> [N, 84] -> [N, numClasses]
    return this.classifier.forward(this.flatten.forward(features));
  }

  protected featuresShape(input: Shape): Shape {
    return this.features.outputShape(input);
  }

  /** The classifier takes exactly 5x5x16 features: inputs of 28 to 31 pixels a side. */
  protected headShape(features: Shape): Shape {
    return this.classifier.outputShape(this.flatten.outputShape(features));
  }
}

const DEFAULTS = {
  numClasses: 10,
  inChannels: 1,
  initWeights: true,
  activation: 'relu' as const,
  pool: 'max' as const,
};

/** LeNet-5 with ReLU and max pooling (the modern default); 61,706 parameters. */
export function lenet5(options: LeNet5Options = {}): LeNet5 {
  return new LeNet5({ ...DEFAULTS, ...options, name: 'lenet5' });
}

/** LeNet-5 with tanh and average pooling, closer to LeCun et al. 1998. See `LeNet5`. */
export function lenet5Original(options: LeNet5Options = {}): LeNet5 {
  return new LeNet5({
    ...DEFAULTS,
    activation: 'tanh',
    pool: 'avg',
    ...options,
    name: 'lenet5Original',
  });
}
