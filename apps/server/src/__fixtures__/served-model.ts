import { FASHION_MNIST_CLASSES } from '@convkit/data';
import { Conv2d, Flatten, Linear, PixelShuffle, Sequential } from '@convkit/layers';
import { saveCheckpoint } from '@convkit/train';
import { cifarResnet20, lenet5 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { fakeImage } from './fake-fashion-mnist';

/** A LeNet-5 checkpoint (seeded initial weights) with the metadata `convkit train` writes. */
export async function writeLenetCheckpoint(dir: string): Promise<void> {
  const model = lenet5({ numClasses: 10 });
  await saveCheckpoint(dir, {
    model,
    epoch: 1,
    extra: {
      model: 'lenet5',
      classNames: [...FASHION_MNIST_CLASSES],
      mean: [0.286],
      std: [0.353],
      inputSize: [28, 28, 1],
    },
  });
  model.dispose();
}

/**
 * A CIFAR ResNet-20 checkpoint (32x32x3, 10 classes) whose BatchNorms have real running
 * statistics: a few train-mode forward passes over seeded inputs move them off 0 / 1, so an
 * engine that ignored or misplaced them would disagree with the tfjs model.
 */
export async function writeCifarResnetCheckpoint(dir: string): Promise<void> {
  const model = cifarResnet20({ numClasses: 10 });
  model.train();
  for (let seed = 1; seed <= 3; seed++) {
    tf.tidy(() => model.forward(tf.randomUniform([4, 32, 32, 3], -1, 2, 'float32', seed)));
  }
  model.eval();
  await saveCheckpoint(dir, {
    model,
    epoch: 1,
    extra: {
      model: 'cifarResnet20',
      classNames: ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
      mean: [0.49, 0.48, 0.45],
      std: [0.25, 0.24, 0.26],
      inputSize: [32, 32, 3],
    },
  });
  model.dispose();
}

/**
 * A checkpoint (4x4x1, 2 classes) holding a PixelShuffle, which @convkit/onnx has no exporter
 * for; saved under `dir`, whose last segment names it.
 */
export async function writeUnexportableCheckpoint(dir: string): Promise<void> {
  const model = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
    new PixelShuffle(2),
    new Flatten(),
    new Linear(8 * 8, 2),
  );
  await saveCheckpoint(dir, { model, epoch: 1, extra: { inputSize: [4, 4, 1] } });
  model.dispose();
}

/** What `--engine onnxruntime` says about `writeUnexportableCheckpoint`'s model named 'shuffled'. */
export const UNEXPORTABLE_MESSAGE =
  "--engine onnxruntime: model 'shuffled' (Sequential) cannot be exported to ONNX: @convkit/onnx: cannot export module 1 (PixelShuffle): no ONNX exporter is registered for PixelShuffle; register one with registerOnnxExporter(PixelShuffle, exporter); run it with --engine tfjs";

/** A grey PNG of the fake class `label` (28x28 unless `size`). */
export function pngOf(label: number, size = 28): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width: size, height: size, colorType: 0 });
  const grey = fakeImage(label);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = grey[(y % 28) * 28 + (x % 28)];
      const o = (y * size + x) * 4;
      png.data[o] = v;
      png.data[o + 1] = v;
      png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 0 }));
}

/** `bytes` with the PNG header's width and height replaced (CRC left stale: a forged header). */
export function withDeclaredSize(
  bytes: Uint8Array,
  width: number,
  height: number,
): Uint8Array<ArrayBuffer> {
  const forged = new Uint8Array(bytes);
  const view = new DataView(forged.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return forged;
}
