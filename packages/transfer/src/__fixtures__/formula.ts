// The formulas of fixtures/generate.py, rebuilt exactly (integer arithmetic, one division).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export const SIZE = 32;
export const CLASSES = 5;

export const fixturePath = (name: string) => new URL(`./${name}`, import.meta.url).pathname;

export const reference = JSON.parse(readFileSync(fixturePath('mobilenet-v2-025.json'), 'utf8')) as {
  logits: number[];
  parity: { losses: number[]; weight: number[]; bias: number[] };
};

export const fromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

export function pixel(s: number, h: number, w: number, c: number): number {
  return ((s * 131 + h * 37 + w * 11 + c * 7) % 97) / 48.5 - 1.0;
}

/** `count` formula images from sample `first`, NHWC. */
export function images(first: number, count: number): tf.Tensor4D {
  const values = new Float32Array(count * SIZE * SIZE * 3);
  let i = 0;
  for (let s = 0; s < count; s++)
    for (let h = 0; h < SIZE; h++)
      for (let w = 0; w < SIZE; w++) for (let c = 0; c < 3; c++) values[i++] = pixel(first + s, h, w, c);
  return tf.tensor4d(values, [count, SIZE, SIZE, 3]);
}

/** The new head's weight in convkit's layout `[in, out]`. */
export function headWeight(): tf.Tensor2D {
  const values = new Float32Array(1280 * CLASSES);
  for (let i = 0; i < 1280; i++)
    for (let o = 0; o < CLASSES; o++) values[i * CLASSES + o] = ((o * 31 + i * 17) % 101) / 1010.0 - 0.05;
  return tf.tensor2d(values, [1280, CLASSES]);
}
