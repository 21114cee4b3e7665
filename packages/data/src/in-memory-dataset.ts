import { checkIndex, type Dataset, type Image, type LabeledImage } from './dataset';

export interface InMemoryDatasetOptions {
  /** All images, back to back, NHWC. Uint8 data is 0..255; float data is used as is. */
  images: Uint8Array | Uint8ClampedArray | Float32Array;
  /** `[N, H, W, C]` (or `[N, H, W]` for one channel). */
  shape: readonly number[];
  /** One class index per image. */
  labels: ArrayLike<number>;
  classNames?: readonly string[];
  /** Used in error messages. */
  name?: string;
}

/**
 * Images and labels held in typed arrays. `get(i)` returns a view into the shared array (no
 * copy); transforms never write to their input, so the dataset is never modified.
 */
export class InMemoryDataset implements Dataset<LabeledImage> {
  readonly images: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly labels: Int32Array;
  readonly length: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classNames?: readonly string[];
  readonly name: string;

  constructor(options: InMemoryDatasetOptions) {
    const name = options.name ?? 'InMemoryDataset';
    const shape = options.shape;
    if (
      (shape.length !== 3 && shape.length !== 4) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0)
    ) {
      throw new Error(`${name}: expected shape [N, H, W] or [N, H, W, C], received [${shape}]`);
    }
    const [n, h, w, c = 1] = shape;
    if (options.images.length !== n * h * w * c) {
      throw new Error(
        `${name}: shape [${shape}] needs ${n * h * w * c} values, but images has ${options.images.length}`,
      );
    }
    if (options.labels.length !== n) {
      throw new Error(`${name}: ${n} images but ${options.labels.length} labels`);
    }
    this.images = options.images;
    this.labels = Int32Array.from(options.labels);
    this.length = n;
    this.height = h;
    this.width = w;
    this.channels = c;
    this.classNames = options.classNames;
    this.name = name;
  }

  get(index: number): LabeledImage {
    checkIndex(this.name, index, this.length);
    const size = this.height * this.width * this.channels;
    const image: Image = {
      data: this.images.subarray(index * size, (index + 1) * size),
      height: this.height,
      width: this.width,
      channels: this.channels,
    };
    return { image, label: this.labels[index] };
  }
}
