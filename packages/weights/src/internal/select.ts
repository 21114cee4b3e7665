import * as tf from '@tensorflow/tfjs-core';
import { type DecodedValues, decodeValues, type SafetensorsDtype, tfDtypeOf } from './dtypes';
import { prefix, quote, type SafetensorsEntry, type SafetensorsHeader } from './header';

/** Which tensors to read: names (every one must exist) or a predicate. */
export type Selection = readonly string[] | ((name: string, entry: SafetensorsEntry) => boolean);

/** Set an own, enumerable property even for names such as "__proto__". */
export function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function selectEntries(
  header: SafetensorsHeader,
  select: Selection | undefined,
  file?: string,
): SafetensorsEntry[] {
  if (select === undefined) return header.entries;
  if (typeof select === 'function') return header.entries.filter((e) => select(e.name, e));
  const byName = new Map(header.entries.map((e) => [e.name, e]));
  const missing = select.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    const available = header.entries.slice(0, 10).map((e) => e.name);
    throw new Error(
      `${prefix(file)}: select: ${missing.length} tensor(s) not in the file: ${missing.map(quote).join(', ')} (the file has ${header.entries.length}: ${available.join(', ')}${header.entries.length > 10 ? ', ...' : ''})`,
    );
  }
  return [...new Set(select)].map((name) => byName.get(name) as SafetensorsEntry);
}

export interface DecodedTensor {
  entry: SafetensorsEntry;
  values: DecodedValues;
}

export function decodeEntry(
  entry: SafetensorsEntry,
  bytes: Uint8Array,
  file?: string,
): DecodedTensor {
  const describe = () =>
    `${prefix(file)}: ${quote(entry.name)} (${entry.dtype} [${entry.shape.join(', ')}])`;
  if (tfDtypeOf(entry.dtype) === null) {
    throw new Error(
      `${describe()}: dtype ${entry.dtype} is not supported (tfjs has no 8-bit floats)`,
    );
  }
  const count = entry.shape.reduce((p, d) => p * d, 1);
  return { entry, values: decodeValues(bytes, entry.dtype, count, describe) };
}

/** What a safetensors read returns. */
export interface SafetensorsContent {
  /** The tensors by name (float32, int32 or bool; the caller owns and disposes them). */
  tensors: Record<string, tf.Tensor>;
  /** The `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
  /** The dtype each returned tensor had in the file (`F16`, `I64`, ...). */
  dtypes: Record<string, SafetensorsDtype>;
}

/** Build tensors only after every selected entry decoded, so a failure leaks none. */
export function toContent(
  decoded: DecodedTensor[],
  metadata: Record<string, string>,
): SafetensorsContent {
  const tensors: Record<string, tf.Tensor> = {};
  const dtypes: Record<string, SafetensorsDtype> = {};
  for (const { entry, values } of decoded) {
    define(
      tensors,
      entry.name,
      tf.tensor(values, entry.shape, tfDtypeOf(entry.dtype) as 'float32'),
    );
    define(dtypes, entry.name, entry.dtype);
  }
  return { tensors, metadata, dtypes };
}
