// The fixture models of fixtures/attributions.py, rebuilt with convkit layers (tests only).
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
} from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import fixtureJson from './attributions.json';

export interface Encoded {
  shape: number[];
  values: number[];
  dtype?: 'int32';
}

export const tensorOf = (e: Encoded): tf.Tensor => tf.tensor(e.values, e.shape, e.dtype ?? 'float32');

export interface AttributionCase {
  state: Record<string, Encoded>;
  layer: string;
  input: Encoded;
  target: number[];
  logits: Encoded;
  saliency: { gradient: Encoded; map: Encoded };
  smoothGrad: { noise: Encoded; gradient: Encoded; map: Encoded };
  gradCam: { weights: Encoded; cam: Encoded; heatmap: Encoded };
  gradCamPlusPlus: { weights: Encoded; cam: Encoded; heatmap: Encoded };
  integratedGradients: { steps: number; attribution: Encoded; completenessError: Encoded };
  occlusion: { window: [number, number]; stride: [number, number]; value: number; attribution: Encoded };
}

export const fixture = fixtureJson as unknown as {
  convNet: AttributionCase;
  resnetBlock: AttributionCase;
};

/** torchvision's BasicBlock with a 1x1 stride-2 downsample. */
class Block extends Module<{ inChannels: number; outChannels: number; stride: number }> {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU();
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential;

  constructor(inChannels: number, outChannels: number, stride: number) {
    super({ inChannels, outChannels, stride });
    const conv = (i: number, o: number, k: number, s: number, p: number) =>
      new Conv2d({ inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: p, bias: false });
    this.conv1 = conv(inChannels, outChannels, 3, stride, 1);
    this.bn1 = new BatchNorm2d({ numFeatures: outChannels });
    this.conv2 = conv(outChannels, outChannels, 3, 1, 1);
    this.bn2 = new BatchNorm2d({ numFeatures: outChannels });
    this.downsample = new Sequential(
      conv(inChannels, outChannels, 1, stride, 0),
      new BatchNorm2d({ numFeatures: outChannels }),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    const identity = this.downsample.forward(x);
    const out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    return this.relu.forward(tf.add(this.bn2.forward(this.conv2.forward(out)), identity));
  }

  outputShape(input: Shape): Shape {
    return this.conv2.outputShape(this.conv1.outputShape(input));
  }
}

export function convNet(): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new AdaptiveAvgPool2d({ outputSize: 1 }),
    new Flatten(),
    new Linear({ inFeatures: 6, outFeatures: 5 }),
  );
}

export function resnetBlockNet(): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, bias: false }),
    new BatchNorm2d({ numFeatures: 4 }),
    new ReLU(),
    new Block(4, 8, 2),
    new AdaptiveAvgPool2d({ outputSize: 1 }),
    new Flatten(),
    new Linear({ inFeatures: 8, outFeatures: 5 }),
  );
}

/** The fixture model `name` with its PyTorch weights loaded, in eval mode. */
export function loadFixtureModel(name: 'convNet' | 'resnetBlock'): Sequential {
  const model = name === 'convNet' ? convNet() : resnetBlockNet();
  const state = Object.fromEntries(
    Object.entries(fixture[name].state).map(([k, v]) => [k, tensorOf(v)]),
  );
  model.loadStateDict(state);
  tf.dispose(Object.values(state));
  return model.eval();
}
