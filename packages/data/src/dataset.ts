/**
 * An image in HWC (channels-last) layout: `data[(y * width + x) * channels + c]`.
 * Integer data (`Uint8Array`, `Uint8ClampedArray`) holds 0..255 and is scaled to [0, 1] when it
 * becomes float (as torchvision's `ToTensor` does); `Float32Array` data is used as is.
 */
export interface Image {
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** An image whose pixels are floats (what the transforms take and return). */
export interface FloatImage extends Image {
  data: Float32Array;
}

/** One labelled sample, what every source in this package returns from `get`. */
export interface LabeledImage {
  image: Image;
  /** The class index, 0..numClasses-1. */
  label: number;
}

/**
 * A random-access dataset: `length` samples, `get(i)` for 0 <= i < length, synchronously or
 * as a promise (file-backed sources read lazily). This is all the `DataLoader` needs, so a
 * plain object literal is a dataset.
 */
export interface Dataset<T = LabeledImage> {
  readonly length: number;
  get(index: number): T | Promise<T>;
  /** Class names by index, where the source knows them. */
  readonly classNames?: readonly string[];
}

/** Throw a RangeError naming the dataset unless 0 <= index < length. */
export function checkIndex(name: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${name}.get: index ${index} is out of range [0, ${length})`);
  }
}

/** The samples of `dataset` at `indices`, in that order (a view: nothing is copied). */
export function subset<T>(dataset: Dataset<T>, indices: ArrayLike<number>): Dataset<T> {
  const idx = Int32Array.from(indices as ArrayLike<number>);
  for (const i of idx) checkIndex('subset', i, dataset.length);
  const labels = (dataset as { labels?: ArrayLike<number> }).labels;
  return {
    length: idx.length,
    get: (i: number) => {
      checkIndex('subset', i, idx.length);
      return dataset.get(idx[i]);
    },
    classNames: dataset.classNames,
    // Keep label arrays available for stratifiedSplit / fast paths on the subset.
    ...(labels ? { labels: Int32Array.from(idx, (i) => labels[i]) } : {}),
  } as Dataset<T>;
}

/** A dataset whose samples are `fn(sample, index)` of another's (lazy). */
export function mapDataset<T, U>(
  dataset: Dataset<T>,
  fn: (sample: T, index: number) => U,
): Dataset<U> {
  return {
    length: dataset.length,
    classNames: dataset.classNames,
    get: (i: number) => {
      const s = dataset.get(i);
      return s instanceof Promise ? s.then((v) => fn(v, i)) : fn(s as T, i);
    },
  };
}

/** The labels of every sample: read from a `labels` array when the dataset has one. */
export async function datasetLabels(dataset: Dataset<LabeledImage>): Promise<Int32Array> {
  const known = (dataset as { labels?: ArrayLike<number> }).labels;
  if (known && known.length === dataset.length) return Int32Array.from(known);
  const out = new Int32Array(dataset.length);
  for (let i = 0; i < dataset.length; i++) out[i] = (await dataset.get(i)).label;
  return out;
}
