import * as tf from '@tensorflow/tfjs-core';
import type {
  SafetensorsContent,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  Selection,
} from '../safetensors-format';
import { type DecodedValues, decodeValues, tfDtypeOf } from './dtypes';
import { prefix, quote } from './header';

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
