import { checkStateKeys, type RandomSource, StateDictError, stateProblem } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import type { BatchTransform, HostBatch } from './batch-transforms';
import type { Dataset, Image, LabeledImage } from './dataset';
import { resolveSeed, streamFor } from './internal/seed';
import type { JointTransform, SegmentationSample } from './joint-transforms';
import type { MultiLabelSample } from './multi-label-shapes';
import type { ImageTransform } from './transforms';

/**
 * What a loader batches: class-labelled images (`y` `[N]` int32), multi-label samples
 * (`target`, `y` `[N, C]` float32) or segmentation samples (`mask`, `y` `[N, H, W]` int32).
 */
export type LoaderSample = LabeledImage | MultiLabelSample | SegmentationSample;

export interface DataLoaderOptions {
  /** Samples per batch (default 1, as PyTorch). */
  batchSize?: number;
  /** Shuffle each epoch (default false). The order of epoch e depends only on (seed, e). */
  shuffle?: boolean;
  /** Base seed of the shuffling and the augmentation streams. */
  seed?: number;
  /**
   * Where the base seed comes from when `seed` is not given: 32 bits are drawn from this source
   * at construction (default: the global one, so `manualSeed(n)` first reproduces a run).
   */
  random?: RandomSource;
  /** Drop the last, incomplete batch (default false). */
  dropLast?: boolean;
  /** Per-sample transform of the image (see `compose`); not for segmentation samples. */
  transform?: ImageTransform;
  /**
   * Per-sample transform of segmentation samples, applied to image and mask together (see
   * `jointCompose`; `imageOnly(t)` wraps an image transform).
   */
  jointTransform?: JointTransform;
  /** Per-batch transform on the host batch (MixUp, CutMix, ...). */
  batchTransform?: BatchTransform;
  /**
   * How many batches are prepared ahead while the consumer works (default 2; 0 builds each
   * batch only when asked). Prefetched batches are host arrays: no tensors exist until a
   * batch is handed out, so stopping early leaks nothing.
   */
  prefetch?: number;
  /** Number of classes, for `oneHot` and MixUp / CutMix (default: `dataset.classNames.length`). */
  numClasses?: number;
  /** Always produce `y` as `[N, numClasses]` float32 one-hot (default false: `[N]` int32). */
  oneHot?: boolean;
}

/** Where a loader stands: enough to resume exactly (store it in a checkpoint). */
export interface DataLoaderState {
  seed: number;
  /** The epoch the next batch belongs to. */
  epoch: number;
  /** The index, within that epoch, of the next batch to hand out. */
  position: number;
}

/**
 * One batch. `x` and `y` are new tensors that the CONSUMER OWNS: dispose them (or create
 * them inside a scope that does) when done; the loader keeps no reference to them.
 */
export interface Batch {
  /** `[N, H, W, C]` float32. */
  x: tf.Tensor4D;
  /**
   * `[N]` int32 class indices, or `[N, K]` float32 soft / one-hot labels; for multi-label
   * samples `[N, C]` float32 multi-hot targets; for segmentation samples `[N, H, W]` int32 masks.
   */
  y: tf.Tensor;
  epoch: number;
  /** Index of this batch within its epoch. */
  index: number;
}

const schedule: (fn: () => void) => void =
  typeof setImmediate === 'function'
    ? (fn) => setImmediate(fn)
    : typeof MessageChannel === 'function'
      ? (fn) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = () => {
            channel.port1.close();
            fn();
          };
          channel.port2.postMessage(null);
        }
      : (fn) => setTimeout(fn, 0);

/** Resolve after pending I/O and timers have had a turn (lets the consumer run first). */
const yieldToEventLoop = () => new Promise<void>((resolve) => schedule(resolve));

function sampleKind(sample: LoaderSample): 'label' | 'target' | 'mask' {
  if ('mask' in sample && sample.mask) return 'mask';
  if ('target' in sample && sample.target) return 'target';
  return 'label';
}

/**
 * Batches from a dataset: seeded shuffling per epoch, per-sample and per-batch transforms,
 * bounded prefetching, and a saved / restored position.
 *
 * ```ts
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const { x, y } of loader) {
 *     // ... train step ...
 *     tf.dispose([x, y]); // the consumer owns the batch tensors
 *   }
 * }
 * ```
 *
 * Each `for await` runs the rest of the current epoch, then moves to the next one; breaking
 * out keeps the position, so the next loop continues where it stopped. Batches are built on
 * the CPU into one typed array each (no per-sample tensors) and uploaded once when handed out.
 * The shuffle of epoch e is a permutation drawn from a stream derived from (seed, e), and each
 * batch's augmentations from a stream derived from (seed, e, batch index), so a run is
 * reproduced by the seed alone, whatever the prefetch depth, and resumed exactly from `stateDict()`.
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset<LoaderSample>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly numClasses?: number;
  private readonly options: DataLoaderOptions;
  private seed: number;
  private currentEpoch = 0;
  private currentPosition = 0;
  private running = false;

  constructor(dataset: Dataset<LoaderSample>, options: DataLoaderOptions = {}) {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, received ${batchSize}`);
    }
    const prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new Error(`DataLoader: prefetch must be an integer >= 0, received ${prefetch}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.prefetch = prefetch;
    this.numClasses = options.numClasses ?? dataset.classNames?.length;
    if (options.oneHot && !this.numClasses) {
      throw new Error('DataLoader: oneHot needs numClasses (or a dataset with classNames)');
    }
    this.options = options;
    this.seed = resolveSeed(options.seed, options.random);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next batch belongs to. */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** Start `epoch` from its first batch (as `DistributedSampler.set_epoch`). */
  setEpoch(epoch: number): void {
    this.loadStateDict({ seed: this.seed, epoch, position: 0 });
  }

  /** Where the loader stands (the `Stateful` protocol): seed, epoch and position. */
  stateDict(): DataLoaderState {
    return { seed: this.seed, epoch: this.currentEpoch, position: this.currentPosition };
  }

  /** Continue from `stateDict()` output: the next batch is the one that would have followed. */
  loadStateDict(state: DataLoaderState): void {
    checkStateKeys('DataLoader', state, ['seed', 'epoch', 'position']);
    const problems: string[] = [];
    if (!Number.isInteger(state.seed))
      problems.push(stateProblem('seed', 'an integer', state.seed));
    if (!(Number.isInteger(state.epoch) && state.epoch >= 0)) {
      problems.push(stateProblem('epoch', 'an integer >= 0', state.epoch));
    }
    if (
      !(Number.isInteger(state.position) && state.position >= 0 && state.position <= this.length)
    ) {
      problems.push(
        stateProblem('position', `an integer with 0 <= position <= ${this.length}`, state.position),
      );
    }
    if (problems.length > 0) throw new StateDictError('DataLoader', problems);
    if (this.running) throw new Error('DataLoader.loadStateDict: an iteration is running');
    this.seed = state.seed >>> 0;
    this.currentEpoch = state.epoch;
    this.currentPosition = state.position;
  }

  /** @deprecated Use `stateDict()` (the name every convkit state uses). */
  state(): DataLoaderState {
    return this.stateDict();
  }

  /** @deprecated Use `loadStateDict()` (the name every convkit state uses). */
  loadState(state: DataLoaderState): void {
    this.loadStateDict(state);
  }

  /** The sample order of `epoch` (a seeded permutation when shuffling). */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return streamFor(this.seed, epoch, 0).permutation(n);
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * Build batch `index` of `epoch` on the host (no tensors): what the iterator uploads.
   * Deterministic: the same (seed, epoch, index) always gives the same arrays.
   */
  async hostBatch(epoch: number, index: number, order = this.order(epoch)): Promise<HostBatch> {
    if (!(index >= 0 && index < this.length)) {
      throw new RangeError(`DataLoader: batch ${index} is out of range [0, ${this.length})`);
    }
    const start = index * this.batchSize;
    const indices = order.slice(start, Math.min(start + this.batchSize, order.length));
    const random = streamFor(this.seed, epoch, index + 1, 1);
    const pending = Array.from(indices, (i) => this.dataset.get(i));
    const samples = pending.some((s) => s instanceof Promise)
      ? await Promise.all(pending)
      : (pending as LoaderSample[]);

    const n = samples.length;
    const transform = this.options.transform;
    let x: Float32Array | null = null;
    let h = 0;
    let w = 0;
    let c = 0;
    let size = 0;
    const kind = n === 0 ? 'label' : sampleKind(samples[0]);
    const labels = new Int32Array(kind === 'label' ? n : 0);
    let target: Float32Array | Int32Array | null = null;
    let targetSize = 0;
    let targetShape: number[] = [];
    for (let k = 0; k < n; k++) {
      const sample = samples[k];
      if (sampleKind(sample) !== kind) {
        throw new Error(
          `DataLoader: sample ${indices[k]} is a ${sampleKind(sample)} sample but sample ${indices[0]} of the same batch is a ${kind} sample`,
        );
      }
      let image: Image;
      let mask: SegmentationSample['mask'] | null = null;
      if (kind === 'mask') {
        if (transform) {
          throw new Error(
            'DataLoader: segmentation samples need `jointTransform` (a `transform` would move the image but not its mask; wrap colour transforms in imageOnly())',
          );
        }
        const seg = sample as SegmentationSample;
        const joint = this.options.jointTransform;
        ({ image, mask } = joint ? joint(seg, random) : seg);
      } else {
        image = transform ? transform(sample.image, random) : sample.image;
      }
      if (x === null) {
        h = image.height;
        w = image.width;
        c = image.channels;
        size = h * w * c;
        x = new Float32Array(n * size);
      } else if (image.height !== h || image.width !== w || image.channels !== c) {
        throw new Error(
          `DataLoader: sample ${indices[k]} is ${image.height}x${image.width}x${image.channels} but ` +
            `sample ${indices[0]} of the same batch is ${h}x${w}x${c}; add a resize / crop transform`,
        );
      }
      const data = image.data;
      if (data.length !== size) {
        throw new Error(
          `DataLoader: sample ${indices[k]} has ${data.length} values for ${h}x${w}x${c}`,
        );
      }
      if (data instanceof Float32Array) {
        x.set(data, k * size);
      } else {
        const o = k * size;
        const s = 1 / 255;
        for (let q = 0; q < size; q++) x[o + q] = data[q] * s;
      }
      if (kind === 'label') {
        const label = (sample as LabeledImage).label;
        if (
          !Number.isInteger(label) ||
          label < 0 ||
          (this.numClasses && label >= this.numClasses)
        ) {
          throw new Error(
            `DataLoader: sample ${indices[k]} has label ${label}, expected an integer in [0, ${this.numClasses ?? 'numClasses'})`,
          );
        }
        labels[k] = label;
        continue;
      }
      const values = kind === 'mask' ? mask!.data : (sample as MultiLabelSample).target;
      if (target === null) {
        targetSize = values.length;
        targetShape = kind === 'mask' ? [n, mask!.height, mask!.width] : [n, targetSize];
        target =
          kind === 'mask' ? new Int32Array(n * targetSize) : new Float32Array(n * targetSize);
      }
      if (kind === 'mask' && (mask!.height !== h || mask!.width !== w)) {
        throw new Error(
          `DataLoader: sample ${indices[k]} has a ${mask!.height}x${mask!.width} mask for a ${h}x${w} image`,
        );
      }
      if (values.length !== targetSize) {
        throw new Error(
          `DataLoader: sample ${indices[k]} has a ${kind === 'mask' ? 'mask' : 'target'} of ${values.length} values, but sample ${indices[0]} of the same batch has ${targetSize}`,
        );
      }
      target.set(values, k * targetSize);
    }
    let batch: HostBatch = {
      x: x ?? new Float32Array(0),
      shape: [n, h, w, c],
      labels,
      numClasses: this.numClasses,
      indices,
      ...(target
        ? {
            target: {
              data: target,
              shape: targetShape,
              dtype: kind === 'mask' ? ('int32' as const) : ('float32' as const),
            },
          }
        : {}),
    };
    if (this.options.batchTransform) {
      if (batch.target) {
        throw new Error(
          'DataLoader: batchTransform (MixUp / CutMix) works on class labels; this dataset has multi-label or mask targets',
        );
      }
      batch = this.options.batchTransform(batch, random);
    }
    return batch;
  }

  /** Upload a host batch as `{ x, y }` tensors (the caller owns them). */
  toTensors(batch: HostBatch): { x: tf.Tensor4D; y: tf.Tensor } {
    const n = batch.shape[0];
    const x = tf.tensor4d(batch.x, batch.shape, 'float32');
    let y: tf.Tensor;
    if (batch.target) {
      y = tf.tensor(batch.target.data, batch.target.shape, batch.target.dtype);
    } else if (batch.soft) {
      y = tf.tensor2d(batch.soft, [n, batch.soft.length / Math.max(n, 1)], 'float32');
    } else if (this.options.oneHot) {
      const k = this.numClasses!;
      const soft = new Float32Array(n * k);
      for (let i = 0; i < n; i++) soft[i * k + batch.labels[i]] = 1;
      y = tf.tensor2d(soft, [n, k], 'float32');
    } else {
      y = tf.tensor1d(batch.labels, 'int32');
    }
    return { x, y };
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<Batch> {
    if (this.running) {
      throw new Error('DataLoader: an iteration is already running; finish or break it first');
    }
    this.running = true;
    const epoch = this.currentEpoch;
    const total = this.length;
    const order = this.order(epoch);
    const queue: Promise<HostBatch>[] = [];
    let next = this.currentPosition;
    const enqueue = () => {
      const index = next++;
      const promise = yieldToEventLoop().then(() => this.hostBatch(epoch, index, order));
      promise.catch(() => {}); // surfaced when awaited; silences batches never awaited
      queue.push(promise);
    };
    try {
      if (next >= total) {
        // The epoch was already finished (state saved after its last batch): move on.
        this.currentEpoch = epoch + 1;
        this.currentPosition = 0;
        return;
      }
      while (this.currentPosition < total) {
        // The batch asked for plus `prefetch` more; once it is shifted out, `prefetch` batches
        // stay in preparation while the consumer works on it.
        while (queue.length < this.prefetch + 1 && next < total) enqueue();
        const host = await queue.shift()!;
        const index = this.currentPosition;
        const tensors = this.toTensors(host);
        if (index + 1 >= total) {
          this.currentEpoch = epoch + 1;
          this.currentPosition = 0;
        } else {
          this.currentPosition = index + 1;
        }
        yield { ...tensors, epoch, index };
        if (this.currentEpoch !== epoch) break;
      }
    } finally {
      this.running = false;
    }
  }
}
