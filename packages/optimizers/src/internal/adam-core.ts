import * as tf from '@tensorflow/tfjs-core';
import { lerpAverage, squareAverage } from './math';

/** The options Adam and AdamW share. */
export interface AdamCoreOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  amsgrad: boolean;
}

/** First / second moment (and running max) state of Adam-family optimizers. */
export function adamState(param: tf.Variable, amsgrad: boolean): Record<string, tf.Tensor> {
  const state: Record<string, tf.Tensor> = {
    expAvg: tf.zerosLike(param),
    expAvgSq: tf.zerosLike(param),
  };
  if (amsgrad) state.maxExpAvgSq = tf.zerosLike(param);
  return state;
}

/**
 * The shared Adam step on an already decayed gradient `g` (PyTorch's `_single_tensor_adam`):
 * m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; v̂ = amsgrad ? max(v̂, v) : v;
 * θ = θ − lr/(1−β1^t) · m / (√v̂ / √(1−β2^t) + eps).
 */
export function adamStep(
  param: tf.Variable,
  g: tf.Tensor,
  o: AdamCoreOptions,
  tensors: Record<string, tf.Variable>,
  step: number,
): void {
  const [beta1, beta2] = o.betas;
  const { expAvg, expAvgSq } = tensors;
  expAvg.assign(lerpAverage(expAvg, g, beta1));
  expAvgSq.assign(squareAverage(expAvgSq, g, beta2));
  const stepSize = o.lr / (1 - beta1 ** step);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
  let second: tf.Tensor = expAvgSq;
  if (o.amsgrad) {
    const max = tensors.maxExpAvgSq ?? tf.variable(tf.zerosLike(param), false);
    tensors.maxExpAvgSq = max;
    max.assign(tf.maximum(max, expAvgSq));
    second = max;
  }
  const denom = tf.add(tf.div(tf.sqrt(second), bias2Sqrt), o.eps);
  param.assign(tf.sub(param, tf.mul(tf.div(expAvg, denom), stepSize)));
}
