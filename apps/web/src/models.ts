/**
 * The models the app knows, one description each: how to build it, what input it expects, which
 * layers the inspect view shows, where Grad-CAM looks and what the transfer view's encoder is.
 * The worker asks this table instead of testing which model it holds. Plain TypeScript over
 * tfjs-core and the zoo, so Node tests use the same preprocessing as the page.
 */

import { resize } from '@convkit/data';
import {
  cifarResnet,
  IMAGENET_MEAN,
  IMAGENET_STD,
  lenet5,
  resnet18,
  squeezenet1_1,
  type ZooModel,
} from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';

/** Side of a Fashion-MNIST image. */
export const SOURCE_SIDE = 28;

/** Fashion-MNIST's own statistics (the 60 000 training images, pixels in [0, 1]). */
const FASHION_MEAN = [0.286];
const FASHION_STD = [0.353];

export interface ModelSpec {
  /** Recorded in saved weights; a file of another id is refused. */
  id: string;
  label: string;
  /** Trained here on Fashion-MNIST (true) or loaded from a torchvision checkpoint (false). */
  trainable: boolean;
  build(numClasses: number, initWeights?: boolean): ZooModel;
  /** The network's input: `side` x `side` x `channels`, normalized per channel. */
  side: number;
  channels: 1 | 3;
  mean: readonly number[];
  std: readonly number[];
  /** Convolutions whose filters are drawn. */
  filterLayers: readonly string[];
  /** Modules whose feature maps are drawn (and that reconstruction may start from). */
  mapLayers: readonly string[];
  /** Most channels drawn per layer (wide layers would fill the page). */
  maxChannels: number;
  /** The last spatial stage: Grad-CAM's layer. */
  gradCamLayer: string;
  /** The transfer view's encoder: this module's output, averaged over H and W when `pool`. */
  encoder: { node: string; pool: boolean };
  /** For a torchvision architecture: how its checkpoints are recognized (PyTorch shapes). */
  torchvision?: {
    /** The final layer's weight, whose first dimension is the number of classes. */
    classifierKey: string;
    /** Whether a state dict's keys and shapes are this architecture's (not a relative's). */
    matches(shapes: Readonly<Record<string, readonly number[]>>): boolean;
  };
}

/** A CIFAR ResNet of `depth` (6n + 2) for 28x28 grey images: no padding needed, 28 -> 14 -> 7. */
function cifarResnetSpec(depth: number): ModelSpec {
  const n = (depth - 2) / 6;
  const blocks = ['layer1', 'layer2', 'layer3'].flatMap((stage) =>
    Array.from({ length: n }, (_, i) => `${stage}.${i}`),
  );
  return {
    id: `cifar-resnet${depth}`,
    label: `ResNet-${depth} (CIFAR-style)`,
    trainable: true,
    build: (numClasses, initWeights = true) =>
      cifarResnet(depth, { numClasses, inChannels: 1, initWeights }),
    side: SOURCE_SIDE,
    channels: 1,
    mean: FASHION_MEAN,
    std: FASHION_STD,
    filterLayers: ['conv1', 'layer1.0.conv1'],
    mapLayers: ['conv1', 'bn1', ...blocks],
    maxChannels: 16,
    gradCamLayer: 'layer3',
    encoder: { node: 'flatten', pool: false },
  };
}

/** torchvision's input size is 224; 112 keeps the last stage spatial (6x6, 4x4) at a quarter of the work. */
const TORCHVISION_SIDE = 112;

export const MODELS: Readonly<Record<string, ModelSpec>> = Object.freeze({
  lenet5: {
    id: 'lenet5',
    label: 'LeNet-5',
    trainable: true,
    build: (numClasses: number) => lenet5({ numClasses, inChannels: 1 }),
    side: SOURCE_SIDE,
    channels: 1,
    mean: [0.1307],
    std: [0.3081],
    filterLayers: ['features.0', 'features.3'],
    mapLayers: ['features.0', 'features.1', 'features.2', 'features.3', 'features.4', 'features.5'],
    maxChannels: 16,
    gradCamLayer: 'features.3',
    // The input of classifier.4 (info.classifier): the ReLU before it, 84 wide.
    encoder: { node: 'classifier.3', pool: false },
  },
  'cifar-resnet8': cifarResnetSpec(8),
  'cifar-resnet20': cifarResnetSpec(20),
  squeezenet1_1: {
    id: 'squeezenet1_1',
    label: 'SqueezeNet 1.1 (torchvision)',
    trainable: false,
    build: (numClasses: number, initWeights = true) => squeezenet1_1({ numClasses, initWeights }),
    side: TORCHVISION_SIDE,
    channels: 3,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    filterLayers: ['features.0', 'features.3.expand3x3'],
    // The stem conv, then every pool and Fire module (features.1 is the stem's ReLU).
    mapLayers: Array.from({ length: 13 }, (_, i) => `features.${i}`).filter(
      (l) => l !== 'features.1',
    ),
    maxChannels: 16,
    gradCamLayer: 'features.12',
    // The classifier is dropout, a 1x1 conv to the classes, ReLU, global pool: the encoder
    // is the features, globally averaged (512 wide).
    encoder: { node: 'features', pool: true },
    torchvision: {
      classifierKey: 'classifier.1.weight',
      // SqueezeNet 1.0 has the same keys but a 7x7 stem with 96 filters.
      matches: (shapes) =>
        'features.12.expand3x3.weight' in shapes &&
        sameShape(shapes['features.0.weight'], [64, 3, 3, 3]),
    },
  },
  resnet18: {
    id: 'resnet18',
    label: 'ResNet-18 (torchvision)',
    trainable: false,
    build: (numClasses: number, initWeights = true) => resnet18({ numClasses, initWeights }),
    side: TORCHVISION_SIDE,
    channels: 3,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    filterLayers: ['conv1', 'layer1.0.conv1'],
    mapLayers: ['conv1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'],
    maxChannels: 16,
    gradCamLayer: 'layer4',
    encoder: { node: 'flatten', pool: false },
    torchvision: {
      classifierKey: 'fc.weight',
      // Two basic blocks per stage: ResNet-34 has layer4.2, ResNet-50 and up have conv3.
      matches: (shapes) =>
        'layer4.1.conv2.weight' in shapes &&
        !('layer4.2.conv1.weight' in shapes) &&
        !('layer1.0.conv3.weight' in shapes),
    },
  },
});

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The models trained in the app, in the order the train view offers them. */
export const TRAINABLE = Object.values(MODELS).filter((m) => m.trainable);

/** The torchvision architectures a checkpoint may hold. */
export const TORCHVISION = Object.values(MODELS).filter((m) => m.torchvision);

export function modelSpec(id: unknown): ModelSpec {
  const spec = typeof id === 'string' ? MODELS[id] : undefined;
  if (!spec) {
    throw new Error(
      `unknown model ${JSON.stringify(id)}; expected one of ${Object.keys(MODELS).join(', ')}`,
    );
  }
  return spec;
}

/**
 * Bilinear resize of one grey `from` x `from` image to `to` x `to` with `@convkit/data`'s
 * `resize`, which samples as PyTorch's `interpolate(mode='bilinear', align_corners=False)`
 * (torchvision's Resize when enlarging).
 */
export function resizeGrey(pixels: Float32Array, from: number, to: number): Float32Array {
  const image = { data: pixels, height: from, width: from, channels: 1 };
  return resize([to, to])(image).data as Float32Array;
}

/**
 * The network's input for `n` 28x28 grey images (0..255 bytes or [0, 1] floats, row-major):
 * resized to the model's side, the grey value copied to every channel (a torchvision model
 * expects RGB), normalized per channel. Built from a JS array, so its values are CPU-resident
 * until a kernel uploads them.
 */
export function modelInput(
  spec: ModelSpec,
  images: Float32Array | Uint8Array,
  n: number,
): tf.Tensor4D {
  const plane = SOURCE_SIDE * SOURCE_SIDE;
  if (images.length !== n * plane) {
    throw new Error(
      `${spec.id}: expected ${n} images of 28x28 (${n * plane} values); received ${images.length}`,
    );
  }
  const { side, channels, mean, std } = spec;
  const scale = images instanceof Uint8Array ? 1 / 255 : 1;
  const values = new Float32Array(n * side * side * channels);
  for (let k = 0; k < n; k++) {
    const grey = Float32Array.from(images.subarray(k * plane, (k + 1) * plane), (v) => v * scale);
    const resized = resizeGrey(grey, SOURCE_SIDE, side);
    const base = k * side * side * channels;
    for (let p = 0; p < side * side; p++) {
      for (let c = 0; c < channels; c++) {
        values[base + p * channels + c] = (resized[p] - mean[c]) / std[c];
      }
    }
  }
  return tf.tensor4d(values, [n, side, side, channels]);
}

/** The [min, max] a normalized input can take (pixels in [0, 1]), over all channels. */
export function inputRange(spec: ModelSpec): [number, number] {
  const lows = spec.mean.map((m, c) => (0 - m) / spec.std[c]);
  const highs = spec.mean.map((m, c) => (1 - m) / spec.std[c]);
  return [Math.min(...lows), Math.max(...highs)];
}

/**
 * The encoder of `model` (the network without its classifier) as a function of the input:
 * `[N, D]` features. One function for caching the transfer view's features and for predicting,
 * so both see the same encoder. The caller owns the result.
 */
export async function encoderOf(
  spec: ModelSpec,
  model: ZooModel,
): Promise<(x: tf.Tensor4D) => tf.Tensor2D> {
  const { createFeatureExtractor } = await import('@convkit/transfer');
  const extractor = createFeatureExtractor(model, { [spec.encoder.node]: 'features' });
  return (x) => {
    // The extractor keeps its outputs beyond any tidy scope: the caller (here) disposes them.
    const out = extractor.forward(x).features;
    try {
      return tf.tidy(() => {
        const flat = spec.encoder.pool ? tf.mean(out, [1, 2]) : out;
        return flat.reshape([x.shape[0], -1]) as tf.Tensor2D;
      });
    } finally {
      out.dispose();
    }
  };
}
