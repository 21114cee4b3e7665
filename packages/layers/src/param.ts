import type { ParamLayout } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A trainable tensor of a module: a `tf.Variable` with its layout (`@convkit/backend`'s
 * vocabulary, which also converts it to and from PyTorch's). The Param takes ownership of
 * `initial` (`new Param(tf.ones([c]), 'vector')` leaks nothing).
 */
export class Param {
  readonly variable: tf.Variable;

  constructor(
    initial: tf.Tensor,
    readonly layout: ParamLayout,
    trainable = true,
  ) {
    this.variable = tf.variable(initial, trainable);
    initial.dispose();
  }

  get shape(): number[] {
    return this.variable.shape;
  }

  /** Whether optimizers and `tf.variableGrads` see it (false when frozen). */
  get trainable(): boolean {
    return this.variable.trainable;
  }

  set trainable(value: boolean) {
    this.variable.trainable = value;
  }
}

/**
 * Non-trainable state of a module, such as BatchNorm's running statistics and
 * `num_batches_tracked`. Persistent buffers are part of the state dict, as in PyTorch. Takes
 * ownership of `initial`, as Param does.
 */
export class Buffer {
  readonly variable: tf.Variable;

  constructor(
    initial: tf.Tensor,
    readonly persistent = true,
  ) {
    this.variable = tf.variable(initial, false);
    initial.dispose();
  }

  get shape(): number[] {
    return this.variable.shape;
  }
}
