/** The options of `convOutputSize` (one spatial axis). */
export interface ConvOutputSizeOptions {
  /** Kernel (window) size K. */
  kernelSize: number;
  /** Stride S. Default 1. */
  stride?: number;
  /** Zero (or -inf) padding P per side, or `[before, after]`. Default 0. */
  padding?: number | [number, number];
  /** Dilation D: the window spans D(K - 1) + 1 cells. Default 1. */
  dilation?: number;
  /** Round the division up instead of down (pooling's `ceilMode`). Default false. */
  ceilMode?: boolean;
}

function check(name: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new Error(
      `convOutputSize: expected ${name} to be an integer >= ${min}, received ${JSON.stringify(value)}`,
    );
  }
  return value as number;
}

/**
 * The output size of a convolution or pooling along one axis, PyTorch's formula (the course's
 * `(W - K + 2P) / S + 1`, with dilation and ceil mode):
 *
 * `out = floor((W + P_before + P_after - D(K - 1) - 1) / S) + 1` (ceil instead of floor with
 * `ceilMode`; then, as PyTorch, a last window that would start past the input and its left
 * padding is dropped). A result < 1 means that no window fits (the layers refuse such input).
 *
 * Conv2d, MaxPool2d and AvgPool2d compute their output shapes with this function.
 *
 * @example convOutputSize(32, { kernelSize: 5 }) // 28 (LeNet's first conv)
 * @example convOutputSize(224, { kernelSize: 11, stride: 4, padding: 2 }) // 55 (AlexNet)
 * @example convOutputSize(14, { kernelSize: 3, stride: 2, ceilMode: true }) // 7 (GoogLeNet)
 */
export function convOutputSize(inputSize: number, options: ConvOutputSizeOptions): number {
  const size = check('inputSize', inputSize, 0);
  if (options == null || typeof options !== 'object') {
    throw new Error(
      `convOutputSize: expected options { kernelSize, stride?, padding?, dilation?, ceilMode? }, received ${JSON.stringify(options)}`,
    );
  }
  const kernel = check('kernelSize', options.kernelSize, 1);
  const stride = check('stride', options.stride ?? 1, 1);
  const dilation = check('dilation', options.dilation ?? 1, 1);
  const padding = options.padding ?? 0;
  const [before, after] = Array.isArray(padding)
    ? [check('padding[0]', padding[0], 0), check('padding[1]', padding[1], 0)]
    : [check('padding', padding, 0), padding];
  const ceilMode = options.ceilMode ?? false;
  if (typeof ceilMode !== 'boolean') {
    throw new Error(
      `convOutputSize: expected ceilMode to be a boolean, received ${JSON.stringify(ceilMode)}`,
    );
  }
  const span = size + before + after - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch: with ceil mode the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= size + before) out--;
  return out;
}
