import { InvalidArgumentError } from 'commander';

/**
 * Option parsers for the command line: each takes the raw text, refuses anything that is not
 * exactly what the flag means (decimal integers only, finite numbers only, no empty strings) and
 * names the expected and the received value. commander prefixes the flag's name.
 */

const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** A decimal integer in `[min, max]` (default `[0, 2^31 - 1]`): refuses `0x10`, `1e9`, `1.5`, ``. */
export function integer(min = 0, max = 2 ** 31 - 1): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    const value = Number(text);
    if (!DECIMAL_INTEGER.test(text) || !Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(`expected a decimal integer, received '${raw}'.`);
    }
    if (value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], received ${value}.`);
    }
    return value;
  };
}

/** A finite number in `(min, max]` when `exclusiveMin`, else `[min, max]`. */
export function finiteNumber(
  min: number,
  max: number,
  { exclusiveMin = false } = {},
): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    // Number('') is 0 and Number('0x10') is 16: accept decimal notation only.
    const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(`expected a finite decimal number, received '${raw}'.`);
    }
    const low = exclusiveMin ? value <= min : value < min;
    if (low || value > max) {
      throw new InvalidArgumentError(
        `expected a number in ${exclusiveMin ? '(' : '['}${min}, ${max}], received ${value}.`,
      );
    }
    return value;
  };
}

/** A non-empty string (a path, a name). */
export function nonEmpty(raw: string): string {
  if (raw.trim() === '')
    throw new InvalidArgumentError('expected a non-empty value, received an empty string.');
  return raw;
}
