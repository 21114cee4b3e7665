import type * as tf from '@tensorflow/tfjs-core';

/** What metrics accept: a tensor (read back with `await data()`, not disposed) or plain arrays. */
export type MetricInput = tf.Tensor | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
