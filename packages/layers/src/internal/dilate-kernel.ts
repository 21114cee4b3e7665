import * as tf from '@tensorflow/tfjs-core';

/**
 * A `[kh, kw, a, b]` kernel with `dilation - 1` zeros inserted between its taps:
 * `[d(kh - 1) + 1, d(kw - 1) + 1, a, b]`. Convolving with it equals a dilated convolution, and
 * it is built from reshapes, pads and slices (rank <= 4), so its gradient exists on every
 * backend (tfjs refuses gradients of conv2d with dilation > 1). The price: the zeros are
 * multiplied too.
 */
export function dilateKernel(w: tf.Tensor, [dh, dw]: [number, number]): tf.Tensor {
  if (dh === 1 && dw === 1) return w;
  return tf.tidy(() => {
    const [kh, kw, a, b] = w.shape;
    let y = w;
    if (dh > 1) {
      const spread = tf.pad(tf.reshape(y, [kh, 1, kw * a * b]), [
        [0, 0],
        [0, dh - 1],
        [0, 0],
      ]);
      y = tf.slice(tf.reshape(spread, [kh * dh, kw, a, b]), 0, (kh - 1) * dh + 1);
    }
    const rows = y.shape[0];
    if (dw > 1) {
      const spread = tf.pad(tf.reshape(y, [rows * kw, 1, a * b]), [
        [0, 0],
        [0, dw - 1],
        [0, 0],
      ]);
      y = tf.slice(
        tf.reshape(spread, [rows, kw * dw, a, b]),
        [0, 0, 0, 0],
        [rows, (kw - 1) * dw + 1, a, b],
      );
    }
    return y;
  });
}
