import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CIFAR10_CLASSES,
  compose,
  type Dataset,
  FASHION_MNIST_CLASSES,
  type ImageTransform,
  imageFolderDataset,
  type LabeledImage,
  loadCifarBinary,
  loadFashionMnist,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  resize,
  syntheticShapesDataset,
} from '@convkit/data';

/** Where the training images come from (`convkit train --dataset ...`). */
export type DatasetSpec =
  | { kind: 'fashion-mnist'; path?: string }
  | { kind: 'cifar'; path: string }
  | { kind: 'image-folder'; path: string }
  | { kind: 'synthetic'; samples?: number };

export const DATASET_KINDS = ['fashion-mnist', 'cifar', 'image-folder', 'synthetic'] as const;
export const AUGMENTATIONS = ['none', 'flip', 'crop', 'crop-flip'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

export interface LoadedData {
  name: string;
  train: Dataset<LabeledImage> & { labels: Int32Array };
  test: Dataset<LabeledImage> | null;
  classNames: string[];
  /** `[H, W, C]` of the images the model sees. */
  inputSize: [number, number, number];
  mean: number[];
  std: number[];
}

const FASHION_MNIST_STATS = { mean: [0.286], std: [0.353] };
const CIFAR10_STATS = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

/**
 * Load a data set. `imageSize` resizes (image folders always are: their images may differ in
 * size); `modelStats` is the mean / std for an image folder (the model's, e.g. ImageNet's).
 */
export async function loadData(
  spec: DatasetSpec,
  options: { imageSize?: number; seed: number; modelStats?: { mean: number[]; std: number[] } },
): Promise<LoadedData> {
  switch (spec.kind) {
    case 'fashion-mnist': {
      const source = spec.path ? { path: spec.path } : { download: true };
      const train = await loadFashionMnist({ ...source, split: 'train' });
      const test = await loadFashionMnist({ ...source, split: 'test' });
      return {
        name: 'Fashion-MNIST',
        train,
        test,
        classNames: [...FASHION_MNIST_CLASSES],
        inputSize: [options.imageSize ?? 28, options.imageSize ?? 28, 1],
        ...FASHION_MNIST_STATS,
      };
    }
    case 'cifar': {
      const { trainFiles, testFiles } = await cifarFiles(spec.path);
      const train = await loadCifarBinary(trainFiles);
      const test = testFiles.length ? await loadCifarBinary(testFiles) : null;
      return {
        name: 'CIFAR-10',
        train,
        test,
        classNames: [...(train.classNames ?? CIFAR10_CLASSES)],
        inputSize: [options.imageSize ?? 32, options.imageSize ?? 32, 3],
        ...CIFAR10_STATS,
      };
    }
    case 'image-folder': {
      const split = ['train', 'val', 'test'].map((s) => join(spec.path, s));
      const hasSplits = isDirectory(split[0]) && (isDirectory(split[1]) || isDirectory(split[2]));
      const train = await imageFolderDataset(hasSplits ? split[0] : spec.path);
      const testDir = isDirectory(split[2]) ? split[2] : split[1];
      const test = hasSplits ? await imageFolderDataset(testDir) : null;
      const size = options.imageSize ?? 224;
      return {
        name: `image folder ${spec.path}`,
        train,
        test,
        classNames: [...train.classNames],
        inputSize: [size, size, 3],
        mean: options.modelStats?.mean ?? [0.5, 0.5, 0.5],
        std: options.modelStats?.std ?? [0.5, 0.5, 0.5],
      };
    }
    case 'synthetic': {
      const size = options.imageSize ?? 28;
      const samples = spec.samples ?? 2000;
      const make = (length: number, seed: number) =>
        syntheticShapesDataset({ length, size, channels: 1, seed, noise: 0.05 });
      const train = make(samples, options.seed + 1);
      return {
        name: 'synthetic shapes',
        train,
        test: make(Math.max(10, Math.floor(samples / 5)), options.seed + 2),
        classNames: [...train.classNames],
        inputSize: [size, size, 1],
        mean: [0.5],
        std: [0.5],
      };
    }
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** A CIFAR binary file, or a directory of `data_batch_*.bin` (train) and `test_batch.bin`. */
async function cifarFiles(path: string): Promise<{ trainFiles: string[]; testFiles: string[] }> {
  if (!existsSync(path)) throw new Error(`--data: '${path}' does not exist`);
  if (!isDirectory(path)) return { trainFiles: [path], testFiles: [] };
  const names = (await readdir(path)).sort();
  const trainFiles = names
    .filter((n) => /^data_batch_\d+\.bin(\.gz)?$/.test(n))
    .map((n) => join(path, n));
  const testFiles = names
    .filter((n) => /^test_batch\.bin(\.gz)?$/.test(n))
    .map((n) => join(path, n));
  if (trainFiles.length === 0) {
    throw new Error(`--data: '${path}' holds no CIFAR data_batch_*.bin files`);
  }
  return { trainFiles, testFiles };
}

/** The per-image transforms: resize when the size differs, augmentation (train), normalize. */
export function transformsFor(
  data: LoadedData,
  augmentation: Augmentation,
  training: boolean,
): ImageTransform {
  const [h, w] = data.inputSize;
  const steps: ImageTransform[] = [];
  const resizeTo = resize([h, w]);
  steps.push(
    (image) => (image.height === h && image.width === w ? image : resizeTo(image)) as never,
  );
  if (training && (augmentation === 'crop' || augmentation === 'crop-flip')) {
    steps.push(randomCrop({ size: [h, w], padding: Math.max(1, Math.round(h / 8)) }));
  }
  if (training && (augmentation === 'flip' || augmentation === 'crop-flip')) {
    steps.push(randomHorizontalFlip());
  }
  steps.push(normalize({ mean: data.mean, std: data.std }));
  return compose(steps);
}
