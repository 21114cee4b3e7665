import * as tf from '@tensorflow/tfjs-core';

/**
 * The stateless activations, one implementation each; the activation modules call these.
 *
 * Every function is differentiable with tfjs autograd and its gradient at a kink is the one
 * PyTorch 1.13 defines (relu'(0) = 0, hardswish'(-3) = -0.5, hardswish'(3) = 1.5, relu6'(6) = 0,
 * ...). Comparisons never sit on the differentiated path (tfjs has no gradient for them): the
 * piecewise functions whose tfjs gradient differs from PyTorch's use `tf.customGrad` with masks
 * built from the saved input.
 */

/** max(0, x); gradient 0 at 0, as PyTorch. */
export function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

/**
 * An elementwise function with its derivative given explicitly: `gradient = dy * slope(x)`, the
 * slope built from the saved input (comparisons allowed there: they are off the tape).
 */
function withSlope(
  value: (x: tf.Tensor) => tf.Tensor,
  slope: (x: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  const f = ((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: value(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, slope(saved[0])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0];
  return tf.customGrad(f) as (x: tf.Tensor) => tf.Tensor;
}

const inside = (x: tf.Tensor, low: number, high: number) =>
  tf.cast(tf.logicalAnd(tf.greater(x, low), tf.less(x, high)), 'float32');

// PyTorch (hardtanh_backward): 1 strictly inside (0, 6), so 0 at both kinks.
const relu6Custom = withSlope(tf.relu6, (x) => inside(x, 0, 6));

/** min(max(0, x), 6); gradient 0 at 0 and at 6, as PyTorch (tfjs's own gives 1 at 6). */
export function relu6(x: tf.Tensor): tf.Tensor {
  return relu6Custom(x);
}

/** x for x > 0, `negativeSlope * x` otherwise; gradient `negativeSlope` at 0, as PyTorch. */
export function leakyRelu(x: tf.Tensor, negativeSlope = 0.01): tf.Tensor {
  return tf.leakyRelu(x, negativeSlope);
}

/**
 * x for x > 0, `weight * x` otherwise, with `weight` broadcast over the last (channel) axis:
 * shape `[1]` or `[C]`. Gradient `weight` at 0, as PyTorch.
 */
export function prelu(x: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  return tf.prelu(x, weight);
}

/**
 * x for x > 0, `alpha * (exp(x) - 1)` otherwise (through expm1, as PyTorch). Composed as
 * `relu(x) + alpha * expm1(min(x, 0))`, whose autograd gradient at 0 is `alpha`, PyTorch's.
 */
export function elu(x: tf.Tensor, alpha = 1): tf.Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.mul(tf.expm1(tf.minimum(x, 0)), alpha)));
}

/** PyTorch's SELU constants (Klambauer et al. 2017). */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

/** `scale * elu(x, alpha)` with the SELU constants. */
export function selu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(
      tf.mul(tf.relu(x), SELU_SCALE),
      tf.mul(tf.expm1(tf.minimum(x, 0)), SELU_ALPHA * SELU_SCALE),
    ),
  );
}

/**
 * x * Phi(x): `approximate: 'none'` uses erf, `'tanh'` the tanh approximation
 * `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, as torch.nn.functional.gelu.
 */
export function gelu(x: tf.Tensor, approximate: 'none' | 'tanh' = 'none'): tf.Tensor {
  return tf.tidy(() => {
    if (approximate === 'tanh') {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  });
}

/** x * sigmoid(x) (also called swish). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** x * tanh(softplus(x)). */
export function mish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.tanh(tf.softplus(x))));
}

// PyTorch: 0 for x < -3, x / 3 + 0.5 for -3 <= x <= 3, 1 for x > 3 (-0.5 at -3, 1.5 at 3).
const hardswishCustom = withSlope(
  (x) => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6),
  (x) =>
    tf.where(
      tf.less(x, -3),
      tf.zerosLike(x),
      tf.where(tf.lessEqual(x, 3), tf.add(tf.div(x, 3), 0.5), tf.onesLike(x)),
    ),
);

/** x * relu6(x + 3) / 6; gradient at the kinks as PyTorch: -0.5 at -3 and 1.5 at 3. */
export function hardswish(x: tf.Tensor): tf.Tensor {
  return hardswishCustom(x);
}

// PyTorch: 1/6 strictly inside (-3, 3), 0 elsewhere (also at the kinks).
const hardsigmoidCustom = withSlope(
  (x) => tf.div(tf.relu6(tf.add(x, 3)), 6),
  (x) => tf.div(inside(x, -3, 3), 6),
);

/** relu6(x + 3) / 6; gradient 0 at ±3, as PyTorch. */
export function hardsigmoid(x: tf.Tensor): tf.Tensor {
  return hardsigmoidCustom(x);
}

/**
 * `clip(x, minVal, maxVal)`; gradient 1 strictly inside (minVal, maxVal) and 0 at and beyond
 * the bounds, as PyTorch's hardtanh_backward (tfjs's clipByValue gives 1 at the bounds).
 */
export function hardtanh(x: tf.Tensor, minVal = -1, maxVal = 1): tf.Tensor {
  if (!(typeof minVal === 'number' && typeof maxVal === 'number' && maxVal > minVal)) {
    throw new Error(
      `hardtanh: expected minVal < maxVal (finite numbers), received minVal ${minVal}, maxVal ${maxVal}`,
    );
  }
  return withSlope(
    (t) => tf.clipByValue(t, minVal, maxVal),
    (t) => inside(t, minVal, maxVal),
  )(x);
}

/**
 * `log(1 + exp(beta·x)) / beta`, and x itself where `beta·x > threshold` (numerical stability),
 * as torch.nn.functional.softplus. Gradient `sigmoid(beta·x)` (1 above the threshold).
 */
export function softplus(x: tf.Tensor, beta = 1, threshold = 20): tf.Tensor {
  return withSlope(
    (t) => {
      const scaled = tf.mul(t, beta);
      const above = tf.greater(scaled, threshold);
      const smooth = tf.div(tf.log1p(tf.exp(tf.minimum(scaled, threshold))), beta);
      return tf.where(above, t, smooth);
    },
    (t) => {
      const scaled = tf.mul(t, beta);
      return tf.where(tf.greater(scaled, threshold), tf.onesLike(t), tf.sigmoid(scaled));
    },
  )(x);
}

/**
 * x for x > 0, `alpha·(exp(x / alpha) − 1)` otherwise (through expm1), as torch.nn.CELU; the
 * gradient at 0 is 1, PyTorch's. `alpha` must not be 0.
 */
export function celu(x: tf.Tensor, alpha = 1): tf.Tensor {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha === 0) {
    throw new Error(`celu: expected alpha to be a finite non-zero number, received ${alpha}`);
  }
  return tf.tidy(() =>
    tf.add(tf.relu(x), tf.mul(tf.expm1(tf.div(tf.minimum(x, 0), alpha)), alpha)),
  );
}

// log(sigmoid(x)) = min(x, 0) − log1p(exp(−|x|)) (stable both ways); derivative sigmoid(−x).
const logSigmoidCustom = withSlope(
  (x) => tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x))))),
  (x) => tf.sigmoid(tf.neg(x)),
);

/** log(1 / (1 + exp(−x))), computed stably as PyTorch does; gradient sigmoid(−x). */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return logSigmoidCustom(x);
}

/** 1 / (1 + exp(-x)). */
export function sigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sigmoid(x);
}

/** tanh(x). */
export function tanh(x: tf.Tensor): tf.Tensor {
  return tf.tanh(x);
}

/** Resolve a possibly negative `dim` against `rank`, or throw naming `where`. */
export function resolveDim(where: string, dim: number, rank: number): number {
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new Error(
      `${where}: expected dim in [${-rank}, ${rank - 1}] for a rank-${rank} input, received ${dim}`,
    );
  }
  return dim < 0 ? dim + rank : dim;
}

/** Run `f` (which works on the last axis) along `axis`, transposing there and back. */
function alongAxis(x: tf.Tensor, axis: number, f: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  const last = x.rank - 1;
  if (axis === last) return f(x);
  return tf.tidy(() => {
    const perm = [...Array(x.rank).keys()];
    perm[axis] = last;
    perm[last] = axis;
    // A swap of two axes is its own inverse.
    return tf.transpose(f(tf.transpose(x, perm)), perm);
  });
}

/**
 * exp(x) / sum(exp(x)) along `dim` (default -1: the channels of NHWC input, which is PyTorch's
 * `dim=1` on NCHW). `dim` counts convkit's axes.
 */
export function softmax(x: tf.Tensor, dim = -1): tf.Tensor {
  return alongAxis(x, resolveDim('softmax', dim, x.rank), (t) => tf.softmax(t));
}

/** log(softmax(x)) along `dim` (default -1), computed stably as x - max - log(sum(exp(x - max))). */
export function logSoftmax(x: tf.Tensor, dim = -1): tf.Tensor {
  return alongAxis(x, resolveDim('logSoftmax', dim, x.rank), (t) => tf.logSoftmax(t));
}
