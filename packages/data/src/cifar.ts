import { InMemoryDataset } from './in-memory-dataset';
import { readMaybeGzip } from './internal/node';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export interface CifarOptions {
  /** 'cifar10' (records of 1 label + 3072 bytes) or 'cifar100' (coarse, fine + 3072). */
  variant?: 'cifar10' | 'cifar100';
  /** For CIFAR-100: which label to use (default 'fine', 100 classes; 'coarse' has 20). */
  labels?: 'fine' | 'coarse';
  /** Class names (default: CIFAR-10's names for cifar10, none for cifar100). */
  classNames?: readonly string[];
  /** Largest decompressed size of a gzipped file, in bytes (default 1 GiB). */
  maxBytes?: number;
}

const PIXELS = 32 * 32;

/**
 * Parse CIFAR binary records (the `*.bin` files of the "binary version"): each image is three
 * 32x32 planes (R, G, B, row-major), transposed here to HWC. Several files' bytes may be given
 * (e.g. `data_batch_1.bin` .. `data_batch_5.bin`). `name` appears in errors.
 */
export function parseCifarBinary(
  parts: Uint8Array | readonly Uint8Array[],
  options: CifarOptions & { names?: readonly string[] } = {},
): InMemoryDataset {
  const files = parts instanceof Uint8Array ? [parts] : parts;
  const variant = options.variant ?? 'cifar10';
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const record = labelBytes + 3 * PIXELS;
  const which = options.labels ?? 'fine';
  const numClasses = variant === 'cifar10' ? 10 : which === 'fine' ? 100 : 20;
  const labelOffset = variant === 'cifar10' ? 0 : which === 'coarse' ? 0 : 1;
  let total = 0;
  files.forEach((bytes, f) => {
    if (bytes.length === 0 || bytes.length % record !== 0) {
      const name = options.names?.[f] ?? `CIFAR part ${f}`;
      throw new Error(
        `${name}: ${bytes.length} bytes is not a whole number of ${variant} records of ${record} bytes ` +
          `(${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 3072 pixels)` +
          (variant === 'cifar10' && bytes.length % (record + 1) === 0
            ? '; it divides into CIFAR-100 records: use variant "cifar100"'
            : ''),
      );
    }
    total += bytes.length / record;
  });
  const images = new Uint8Array(total * 3 * PIXELS);
  const labels = new Int32Array(total);
  let n = 0;
  files.forEach((bytes, f) => {
    const count = bytes.length / record;
    for (let r = 0; r < count; r++, n++) {
      const base = r * record;
      const label = bytes[base + labelOffset];
      if (label >= numClasses) {
        const name = options.names?.[f] ?? `CIFAR part ${f}`;
        throw new Error(
          `${name}: record ${r} has label ${label}, outside [0, ${numClasses}) for ${variant}` +
            (variant === 'cifar100' ? ` ${which}` : '') +
            '; wrong variant?',
        );
      }
      labels[n] = label;
      const src = base + labelBytes;
      const dst = n * 3 * PIXELS;
      for (let p = 0; p < PIXELS; p++) {
        images[dst + 3 * p] = bytes[src + p];
        images[dst + 3 * p + 1] = bytes[src + PIXELS + p];
        images[dst + 3 * p + 2] = bytes[src + 2 * PIXELS + p];
      }
    }
  });
  return new InMemoryDataset({
    images,
    shape: [total, 32, 32, 3],
    labels,
    classNames: options.classNames ?? (variant === 'cifar10' ? CIFAR10_CLASSES : undefined),
    name: options.names?.join(', ') ?? variant,
  });
}

/**
 * Node: load CIFAR binary files (gzipped or not), e.g.
 * `loadCifarBinary(['cifar-10-batches-bin/data_batch_1.bin', ...])`.
 */
export async function loadCifarBinary(
  paths: string | readonly string[],
  options: CifarOptions = {},
): Promise<InMemoryDataset> {
  const list = typeof paths === 'string' ? [paths] : paths;
  const parts = await Promise.all(
    list.map((p) => readMaybeGzip(p, { maxBytes: options.maxBytes })),
  );
  return parseCifarBinary(parts, { ...options, names: list });
}
