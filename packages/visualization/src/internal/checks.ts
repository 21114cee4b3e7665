import type { Module, Shape } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { Target } from '../target';

const shapeText = (shape: readonly (number | null)[]) => `[${shape.join(', ')}]`;

/**
 * Throw, naming `fn` and the argument, unless `input` is an NHWC batch that the model takes;
 * returns the model's (tensor-free) output shape for it.
 */
export function checkImageInput(fn: string, model: Module, input: tf.Tensor): Shape {
  if (!(input instanceof tf.Tensor) || input.rank !== 4) {
    const received = input instanceof tf.Tensor ? shapeText(input.shape) : String(input);
    throw new Error(
      `${fn}: argument 'input' must be an NHWC image batch [N, H, W, C]; received ${received}`,
    );
  }
  try {
    return model.outputShape(input.shape);
  } catch (error) {
    throw new Error(
      `${fn}: argument 'input' of shape ${shapeText(input.shape)} does not fit the model: ${(error as Error).message}`,
    );
  }
}

/** As `checkImageInput`, and the model's output must be `[N, classes]` scores. */
export function checkClassifierInput(
  fn: string,
  model: Module,
  input: tf.Tensor,
): { numClasses: number } {
  const out = checkImageInput(fn, model, input);
  if (out.length !== 2) {
    throw new Error(
      `${fn}: the model must output class scores [N, classes]; for input ${shapeText(input.shape)} it outputs ${shapeText(out)}`,
    );
  }
  return { numClasses: out[1] };
}

/** Check `target` against `numClasses` and the batch size, before any tensor is made. */
export function checkTarget(
  fn: string,
  target: Target | undefined,
  batch: number,
  numClasses: number,
): void {
  if (target === undefined) return;
  const list = typeof target === 'number' ? [target] : target;
  if (typeof target !== 'number' && list.length !== batch) {
    throw new Error(
      `${fn}: argument 'target' must have one class index per sample (${batch}); received ${list.length}`,
    );
  }
  for (const t of list) {
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
      throw new Error(
        `${fn}: argument 'target' must be a class index in [0, ${numClasses - 1}]; received ${t}`,
      );
    }
  }
}

/**
 * A `[N, classes]` one-hot mask of the target classes; the predicted class (arg max of
 * `logits()`, computed on the device, nothing read back) when `target` is omitted.
 */
export function targetMask(
  target: Target | undefined,
  batch: number,
  numClasses: number,
  logits: () => tf.Tensor,
): tf.Tensor2D {
  const indices =
    target === undefined
      ? tf.argMax(logits(), -1)
      : tf.tensor1d(
          typeof target === 'number' ? new Array(batch).fill(target) : [...target],
          'int32',
        );
  // int32 then cast: tfjs-backend-wasm 4.22's OneHot writes the integer bits of 1 into a
  // float32 output (1.4e-45) when asked for float32 directly.
  return tf.cast(tf.oneHot(indices, numClasses), 'float32') as tf.Tensor2D;
}

/** The sum over the batch of each sample's target score: its gradient is per sample. */
export function targetScore(output: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(output, mask));
}

/** A positive integer option, or throw naming it. */
export function positiveInteger(fn: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${fn}: option '${name}' must be a positive integer; received ${value}`);
  }
  return value;
}

/** `[h, w]` from one positive integer or a pair, or throw naming the option. */
export function positivePair(
  fn: string,
  name: string,
  value: number | readonly number[],
): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : [...value];
  if (pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(
      `${fn}: option '${name}' must be a positive integer or a pair of them; received ${JSON.stringify(value)}`,
    );
  }
  return pair as [number, number];
}

export { shapeText };
