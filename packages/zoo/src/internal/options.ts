/** Throw, naming the factory and echoing the value, unless `value` is a positive integer. */
export function positiveInteger(where: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(
      `${where}: expected ${key} to be a positive integer, received ${String(value)}`,
    );
  }
  return value;
}

/** Throw unless `value` is a probability in [0, 1). */
export function probability(where: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new Error(
      `${where}: expected ${key} to be a number in [0, 1), received ${String(value)}`,
    );
  }
  return value;
}

/** Throw unless `value` is one of `allowed`. */
export function oneOf<T extends string | boolean>(
  where: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new Error(
      `${where}: expected ${key} to be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, received ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}
