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
