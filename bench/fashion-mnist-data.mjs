// Fashion-MNIST for the LeNet-5 benchmark (fashion-mnist.mjs): the four IDX gz files read as
// bytes, and the main job's split (@convkit/data's stratifiedSplit, 5,000 validation images,
// seed 0) written once to a JSON file that every worker reads, so that convkit, tfjs-layers and
// PyTorch train and validate on the same images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';
/** The main job's normalization (apps/server/src/main-job.ts): (x / 255 - MEAN) / STD. */
export const MEAN = 0.286;
export const STD = 0.353;
export const VALIDATION = 5000;

const FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

/** One IDX file (unsigned bytes): its dimensions and data. */
export function readIdxGz(path) {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0 || view.getUint8(2) !== 0x08) {
    throw new Error(`${path}: not an unsigned-byte IDX file`);
  }
  const rank = view.getUint8(3);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const data = bytes.subarray(4 + 4 * rank);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) {
    throw new Error(`${path}: ${data.length} bytes for dimensions [${dims}]`);
  }
  return { dims, data };
}

/** Images `[N * 784]` (uint8) and labels `[N]` of one split. */
export function readSplit(dir, split) {
  const [imageFile, labelFile] = FILES[split];
  const images = readIdxGz(join(dir, imageFile));
  const labels = readIdxGz(join(dir, labelFile));
  if (images.dims[0] !== labels.dims[0]) throw new Error(`${split}: images and labels differ`);
  return { count: images.dims[0], images: images.data, labels: labels.data };
}

/** `(x / 255 - MEAN) / STD` of the chosen images, as one float32 array `[indices.length * 784]`. */
export function normalizedImages(images, indices) {
  const size = 28 * 28;
  const out = new Float32Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const from = indices[k] * size;
    for (let p = 0; p < size; p++) out[k * size + p] = (images[from + p] / 255 - MEAN) / STD;
  }
  return out;
}

/** Reads the split file written by fashion-mnist.mjs: `{ seed, train: number[], validation }`. */
export function readSplitFile(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
