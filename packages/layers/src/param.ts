import * as tf from '@tensorflow/tfjs-core';

/**
 * How a parameter's axes are laid out. convkit stores tfjs-native layouts; the weights package
 * reads this tag to convert from and to PyTorch (`OIHW`, `(out, in)`).
 * - `HWIO`: conv kernel `[kh, kw, in / groups, out]`
 * - `HWCM`: depthwise kernel `[kh, kw, channels, multiplier]`
 * - `HWOI`: transposed-conv kernel `[kh, kw, out, in]` (tfjs conv2dTranspose)
 * - `IO`: linear weight `[in, out]`
 * - `vector`: biases, norm scales and shifts `[C]`
 * - `scalar`: anything without axes to permute
 */
export type ParamLayout = 'HWIO' | 'HWCM' | 'HWOI' | 'IO' | 'vector' | 'scalar';

/**
 * A trainable tensor of a module: a `tf.Variable` with its layout. The Param takes ownership of
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
