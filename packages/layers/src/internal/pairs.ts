/** An int or an `[height, width]` pair, as PyTorch's `_pair` accepts. */
export type IntOrPair = number | [number, number];

/** Normalize `value` to a pair of positive (or, with `min = 0`, non-negative) integers. */
export function toPair(where: string, name: string, value: IntOrPair, min = 1): [number, number] {
  const pair: [number, number] = Array.isArray(value) ? [value[0], value[1]] : [value, value];
  const ok =
    (!Array.isArray(value) || value.length === 2) &&
    pair.every((v) => Number.isInteger(v) && v >= min);
  if (!ok) {
    throw new Error(
      `${where}: expected ${name} to be an integer >= ${min} or a pair of them, received ${JSON.stringify(value)}`,
    );
  }
  return pair;
}

/** PyTorch's output-size formula for one spatial axis. */
export function convOutputSize(
  size: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
  ceilMode = false,
): number {
  const span = size + padBefore + padAfter - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch: with ceil mode the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= size + padBefore) out--;
  return out;
}
