// Test helpers: a tiny CNN, a seeded toy data set and a loader with saveable shuffling state.
import { globalRandom, RandomSource, type RandomState } from '@convkit/backend';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../types';

/** [N, 8, 8, 1] -> [N, 3]. */
export function tinyCnn(): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 4 * 4 * 4, outFeatures: 3 }),
  );
}

/** 8x8 noise images with a bright 3x3 patch; the class is the third (left, middle, right) it sits in. */
export function toyData(n: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const random = new RandomSource(seed);
  const images = random.normalArray(n * 64, 0, 0.3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = random.int(0, 3);
    labels[i] = label;
    const top = random.int(0, 6);
    const left = [0, 2, 5][label] + random.int(0, 2);
    for (let y = top; y < top + 3; y++) {
      for (let x = left; x < Math.min(8, left + 3); x++) images[i * 64 + y * 8 + x] += 1.5;
    }
  }
  return { images, labels };
}

export interface ToyLoaderOptions {
  n: number;
  batchSize: number;
  seed?: number;
  /** Shuffle each epoch with the loader's own random stream. */
  shuffle?: boolean;
  /** Add noise drawn from the global random stream (to test that it is restored). */
  noise?: number;
}

/** A loader as @convkit/data's: async iterable of fresh { x, y } tensors, state saveable. */
export class ToyLoader implements AsyncIterable<Batch> {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  private random: RandomSource;

  constructor(private readonly options: ToyLoaderOptions) {
    ({ images: this.images, labels: this.labels } = toyData(options.n, options.seed ?? 0));
    this.random = new RandomSource((options.seed ?? 0) + 1000);
  }

  get length(): number {
    return Math.ceil(this.options.n / this.options.batchSize);
  }

  getState(): RandomState {
    return this.random.getState();
  }

  setState(state: RandomState): void {
    this.random.setState(state);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const { n, batchSize } = this.options;
    const order = this.options.shuffle ? this.random.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    for (let start = 0; start < n; start += batchSize) {
      const idx = order.subarray(start, Math.min(n, start + batchSize));
      const x = new Float32Array(idx.length * 64);
      const y = new Int32Array(idx.length);
      idx.forEach((j, k) => {
        x.set(this.images.subarray(j * 64, j * 64 + 64), k * 64);
        y[k] = this.labels[j];
      });
      if (this.options.noise) {
        const noise = globalRandom().normalArray(x.length, 0, this.options.noise);
        for (let i = 0; i < x.length; i++) x[i] += noise[i];
      }
      yield { x: tf.tensor4d(x, [idx.length, 8, 8, 1]), y: tf.tensor1d(y, 'int32') };
    }
  }
}

/** All of `toyData` as one array of batches (reused each epoch; fit does not dispose them). */
export function toyBatches(n: number, batchSize: number, seed = 0): Batch[] {
  const { images, labels } = toyData(n, seed);
  const out: Batch[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    out.push({
      x: tf.tensor4d(images.slice(start * 64, end * 64), [end - start, 8, 8, 1]),
      y: tf.tensor1d(labels.slice(start, end), 'int32'),
    });
  }
  return out;
}

/** Every parameter's values, by state-dict key. */
export function weightsOf(model: { stateDict(): Record<string, tf.Tensor> }): Record<string, Float32Array> {
  return Object.fromEntries(
    Object.entries(model.stateDict()).map(([k, v]) => [k, v.dataSync() as Float32Array]),
  );
}
