import type * as tf from '@tensorflow/tfjs-core';
import { Param, type ParamLayout } from '../param';

/** A Param from a freshly sampled tensor, which is disposed once the variable holds a copy. */
export function initParam(layout: ParamLayout, sample: () => tf.Tensor): Param {
  const initial = sample();
  try {
    return new Param(initial, layout);
  } finally {
    initial.dispose();
  }
}
