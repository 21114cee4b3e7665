import { decodeImage, type Image, normalize, resize } from '@convkit/data';
import * as tf from '@tensorflow/tfjs-core';
import { imageSize } from 'image-size';
import type { LoadedModel } from './model-files';

/** Largest image side and pixel count accepted for decoding (checked from the header first). */
export interface ImageLimits {
  maxSide: number;
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxSide: 4096, maxPixels: 16 * 1024 * 1024 };

/** A request or file the server or CLI refuses, with the HTTP status it maps to. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Decode PNG or JPEG bytes (pngjs / jpeg-js through `@convkit/data`'s `decodeImage`) after
 * reading the declared dimensions from the header (image-size): an image larger than `limits`
 * (a decompression bomb) is refused before any pixel is decoded.
 */
export async function decodeLimited(
  bytes: Uint8Array,
  channels: 1 | 3,
  name: string,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Image> {
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new InputError(
      `${name}: not a readable PNG or JPEG image (${(error as Error).message})`,
      415,
    );
  }
  if (size.type !== 'png' && size.type !== 'jpg') {
    throw new InputError(
      `${name}: expected a PNG or JPEG image, received ${size.type ?? 'unknown'} data`,
      415,
    );
  }
  const { width = 0, height = 0 } = size;
  if (width < 1 || height < 1)
    throw new InputError(`${name}: the header declares an empty image (${width}x${height})`);
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels) {
    throw new InputError(
      `${name}: image is ${width}x${height}; at most ${limits.maxSide} pixels a side and ${limits.maxPixels} pixels in all are accepted`,
      413,
    );
  }
  try {
    return await decodeImage(bytes, { channels, name });
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

/** An image as the model's normalized `[H, W, C]` input (resized when its size differs). */
export function preprocess(image: Image, model: LoadedModel): Float32Array {
  const [h, w] = model.inputSize;
  const sized = image.height === h && image.width === w ? image : resize([h, w])(image);
  return normalize({ mean: model.mean, std: model.std })(sized).data as Float32Array;
}

/** Preprocessed `[H, W, C]` inputs as one `[N, H, W, C]` tensor (the caller disposes it). */
export function batchTensor(model: LoadedModel, inputs: readonly Float32Array[]): tf.Tensor4D {
  const [h, w, c] = model.inputSize;
  const per = h * w * c;
  const flat = new Float32Array(inputs.length * per);
  for (const [i, x] of inputs.entries()) flat.set(x, i * per);
  return tf.tensor4d(flat, [inputs.length, h, w, c]);
}

/**
 * Softmax of `[N, K]` logits, read back asynchronously as one row per input; disposes
 * `logits`. Both engines end here, so their probabilities differ only by their logits.
 */
export async function softmaxRows(logits: tf.Tensor): Promise<Float32Array[]> {
  const probs = tf.tidy(() => tf.softmax(logits as tf.Tensor2D));
  logits.dispose();
  try {
    const values = (await probs.data()) as Float32Array;
    const [n, k] = probs.shape;
    return Array.from({ length: n }, (_, i) => values.slice(i * k, (i + 1) * k));
  } finally {
    probs.dispose();
  }
}

/**
 * Class probabilities (softmax of the logits) for a batch of preprocessed `[H, W, C]` inputs
 * on the tfjs backend: one forward pass, one asynchronous read-back, every tensor disposed.
 */
export async function predictProbabilities(
  model: LoadedModel,
  inputs: readonly Float32Array[],
): Promise<Float32Array[]> {
  const logits = tf.tidy(() => {
    const out = model.model.forward(batchTensor(model, inputs));
    return Array.isArray(out) ? out[0] : (out as tf.Tensor);
  });
  return softmaxRows(logits);
}

export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** The `k` most probable classes, most probable first. */
export function topK(
  probabilities: Float32Array,
  classNames: readonly string[],
  k: number,
): Prediction[] {
  return Array.from(probabilities, (probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, Math.max(1, k))
    .map(({ index, probability }) => ({
      label: classNames[index] ?? String(index),
      index,
      probability,
    }));
}
