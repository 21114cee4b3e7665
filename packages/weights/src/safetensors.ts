import type * as tf from '@tensorflow/tfjs-core';
import { encodeValues, planSafetensors, type TensorSpec } from './internal/encode';
import { parseHeader, prefix, readHeaderLength } from './internal/header';
import { type DecodedTensor, decodeEntry, selectEntries, toContent } from './internal/select';
import { ChunkReader } from './internal/stream';
import type {
  SafetensorsContent,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  Selection,
} from './safetensors-format';

export interface ReadSafetensorsOptions {
  /** Read only these tensors (names, all of which must exist) or those a predicate accepts. */
  select?: Selection;
  /** A name for error messages (a path or URL). */
  file?: string;
}

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Parse and validate the header of a safetensors file held in memory, without its data. */
export function inspectSafetensors(
  bytes: ArrayBuffer | Uint8Array,
  file?: string,
): SafetensorsHeader {
  const data = asBytes(bytes);
  const n = readHeaderLength(data.subarray(0, 8), data.byteLength, file);
  return parseHeader(data.subarray(8, 8 + n), data.byteLength - 8 - n, file);
}

/**
 * Read a safetensors file held in memory. The header is validated in full before any tensor is
 * allocated (see the README for the checks); F16 / BF16 / F64 become float32, integer dtypes
 * int32 (64-bit values range-checked), BOOL bool. The caller owns the returned tensors.
 */
export function readSafetensors(
  bytes: ArrayBuffer | Uint8Array,
  options: ReadSafetensorsOptions = {},
): SafetensorsContent {
  const data = asBytes(bytes);
  const header = inspectSafetensors(data, options.file);
  const decoded = selectEntries(header, options.select, options.file).map((entry) =>
    decodeEntry(
      entry,
      data.subarray(header.dataStart + entry.begin, header.dataStart + entry.end),
      options.file,
    ),
  );
  return toContent(decoded, header.metadata);
}

/**
 * Read a safetensors file from a `fetch` Response, streaming: the header is read and validated
 * first (against `Content-Length` when the body is not content-encoded), then each selected
 * tensor's bytes as they arrive; tensors not selected are skipped, not kept. Memory is bounded
 * by the bytes actually received, never by what the header claims.
 */
export async function readSafetensorsFromResponse(
  response: Response,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsContent> {
  const file = options.file ?? (response.url || undefined);
  if (!response.ok) {
    throw new Error(`${prefix(file)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  if (!response.body) return readSafetensors(await response.arrayBuffer(), { ...options, file });
  const lengthHeader = response.headers.get('content-length');
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total =
    lengthHeader !== null && !encoded && /^\d+$/.test(lengthHeader.trim())
      ? Number(lengthHeader)
      : undefined;
  const reader = new ChunkReader(response.body.getReader());
  try {
    await reader.fill(8);
    const n = readHeaderLength(reader.take(8), total, file);
    await reader.fill(n);
    if (reader.available < n) {
      throw new Error(
        `${prefix(file)}: truncated: the header needs ${n} bytes, the stream ended after ${reader.available}`,
      );
    }
    const header = parseHeader(
      reader.take(n),
      total === undefined ? undefined : total - 8 - n,
      file,
    );
    const wanted = new Set(selectEntries(header, options.select, file));
    const decoded: DecodedTensor[] = [];
    let position = 0;
    for (const entry of header.entries) {
      if (!wanted.has(entry)) continue;
      position += await reader.skip(entry.begin - position);
      await reader.fill(entry.end - entry.begin);
      if (position < entry.begin || reader.available < entry.end - entry.begin) {
        throw truncated(file, entry, header);
      }
      decoded.push(decodeEntry(entry, reader.take(entry.end - entry.begin), file));
      position = entry.end;
    }
    // The rest must be exactly the bytes the header describes: no less, no more.
    position += await reader.skip(header.dataLength - position);
    if (position < header.dataLength) {
      throw new Error(
        `${prefix(file)}: truncated: the header describes ${header.dataLength} data bytes, the stream ended after ${position}`,
      );
    }
    await reader.fill(1);
    if (reader.available > 0) {
      throw new Error(
        `${prefix(file)}: the stream has bytes after the ${header.dataLength} data bytes the header describes`,
      );
    }
    return toContent(decoded, header.metadata);
  } finally {
    reader.cancel();
  }
}

function truncated(
  file: string | undefined,
  entry: SafetensorsEntry,
  header: SafetensorsHeader,
): Error {
  return new Error(
    `${prefix(file)}: truncated: tensor ${JSON.stringify(entry.name)} needs data bytes [${entry.begin}, ${entry.end}) of ${header.dataLength}, the stream ended before`,
  );
}

export interface WriteSafetensorsOptions {
  /**
   * int32 tensors to store as I64, as PyTorch does for integer buffers: names, or a predicate.
   * `isNumBatchesTracked` selects BatchNorm's `num_batches_tracked`.
   */
  int64?: readonly string[] | ((name: string) => boolean);
}

/** Whether `name` is a BatchNorm `num_batches_tracked` buffer (an int64 in PyTorch). */
export function isNumBatchesTracked(name: string): boolean {
  return name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
}

/** The safetensors dtype a tensor is written as. */
export function safetensorsDtypeFor(
  name: string,
  tensor: tf.Tensor,
  options: WriteSafetensorsOptions = {},
): SafetensorsDtype {
  switch (tensor.dtype) {
    case 'float32':
      return 'F32';
    case 'bool':
      return 'BOOL';
    case 'int32': {
      const { int64 } = options;
      const wide = typeof int64 === 'function' ? int64(name) : (int64?.includes(name) ?? false);
      return wide ? 'I64' : 'I32';
    }
    default:
      throw new Error(
        `safetensors: tensor ${JSON.stringify(name)} has dtype ${tensor.dtype}, which cannot be written`,
      );
  }
}

/** Specs (name, dtype, shape) of the tensors to write. */
export function specsOf(
  tensors: Record<string, tf.Tensor>,
  options: WriteSafetensorsOptions = {},
): TensorSpec[] {
  return Object.entries(tensors).map(([name, tensor]) => ({
    name,
    dtype: safetensorsDtypeFor(name, tensor, options),
    shape: [...tensor.shape],
  }));
}

/**
 * Serialize tensors to safetensors bytes (reads them back with `dataSync`). Deterministic:
 * header keys in code-point order, data ordered by element size then name (so every tensor is
 * aligned), header padded with spaces to a multiple of 8 bytes. float32 -> F32, int32 -> I32
 * (or I64 when `options.int64` selects it), bool -> BOOL.
 */
export function writeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const plan = planSafetensors(specsOf(tensors, options), metadata);
  const out = new Uint8Array(plan.byteLength);
  out.set(plan.head, 0);
  for (const entry of plan.order) {
    const values = tensors[entry.name].dataSync() as Float32Array | Int32Array | Uint8Array;
    out.set(encodeValues(values, entry.dtype, entry.name), plan.head.byteLength + entry.begin);
  }
  return out;
}
