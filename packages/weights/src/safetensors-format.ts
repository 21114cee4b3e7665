/** The public contract of the safetensors format: its dtypes, header entries and what a read returns. */
import type * as tf from '@tensorflow/tfjs-core';

/** Every dtype of the safetensors format (F8 types are known but not decoded). */
export const SAFETENSORS_DTYPES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** The largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a safetensors header; `begin` / `end` are relative to the data buffer. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Entries in data order (sorted by offset). */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data buffer starts in the file: 8 + header length. */
  dataStart: number;
  /** Bytes of the data buffer the header describes (= file size - dataStart). */
  dataLength: number;
}

/** Which tensors to read: names (every one must exist) or a predicate. */
export type Selection = readonly string[] | ((name: string, entry: SafetensorsEntry) => boolean);

/** What a safetensors read returns. */
export interface SafetensorsContent {
  /** The tensors by name (float32, int32 or bool; the caller owns and disposes them). */
  tensors: Record<string, tf.Tensor>;
  /** The `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
  /** The dtype each returned tensor had in the file (`F16`, `I64`, ...). */
  dtypes: Record<string, SafetensorsDtype>;
}
