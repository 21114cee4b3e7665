import * as tf from '@tensorflow/tfjs-core';

/**
 * The checkpoint's tensor file format: safetensors (8-byte little-endian header length, a JSON
 * header `{ name: { dtype, shape, data_offsets } , __metadata__ }`, then the raw little-endian
 * data). Kept behind these two functions so that the implementation can move to
 * `@convkit/weights` without touching the checkpoint code.
 */

const DTYPES: Record<string, { code: string; bytes: number }> = {
  float32: { code: 'F32', bytes: 4 },
  int32: { code: 'I32', bytes: 4 },
  bool: { code: 'BOOL', bytes: 1 },
};

/** Encode tensors (read back asynchronously) as one safetensors file. */
export async function encodeTensorFile(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const entries = Object.entries(tensors);
  const values = await Promise.all(entries.map(([, t]) => t.data()));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  entries.forEach(([name, t], i) => {
    const dtype = DTYPES[t.dtype];
    if (!dtype) throw new Error(`tensor file: '${name}' has unsupported dtype ${t.dtype}`);
    const v = values[i];
    const bytes =
      t.dtype === 'bool'
        ? Uint8Array.from(v as ArrayLike<number>)
        : new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
    header[name] = { dtype: dtype.code, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  });
  let json = JSON.stringify(header);
  // Pad the header with spaces so that the data starts 8-byte aligned (as the reference writer).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decode a safetensors file into new tensors (caller disposes); errors name `label`. */
export function decodeTensorFile(
  bytes: Uint8Array,
  label: string,
): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const bad = (why: string): never => {
    throw new Error(`${label}: not a valid safetensors file (${why})`);
  };
  if (bytes.length < 8) bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    bad(`header of ${headerLength} bytes, but the file has ${bytes.length} bytes: truncated?`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    return bad(`header is not JSON: ${(error as Error).message}`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, tf.Tensor> = {};
  let metadata: Record<string, string> = {};
  let end = 0;
  try {
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = info as Record<string, string>;
        continue;
      }
      const { dtype, shape, data_offsets: offsets } = info as {
        dtype: string;
        shape: number[];
        data_offsets: [number, number];
      };
      const type = Object.entries(DTYPES).find(([, d]) => d.code === dtype);
      if (!type) bad(`tensor '${name}' has unsupported dtype ${dtype}`);
      const [tfType, { bytes: width }] = type!;
      const size = shape.reduce((a, b) => a * b, 1);
      const [from, to] = offsets;
      if (to - from !== size * width) bad(`tensor '${name}' spans ${to - from} bytes, expected ${size * width}`);
      if (to > dataLength) {
        bad(`tensor '${name}' ends at byte ${to} of the data, which has ${dataLength} bytes: truncated?`);
      }
      end = Math.max(end, to);
      const slice = bytes.slice(dataStart + from, dataStart + to);
      const values =
        tfType === 'float32'
          ? new Float32Array(slice.buffer)
          : tfType === 'int32'
            ? new Int32Array(slice.buffer)
            : Uint8Array.from(slice);
      tensors[name] = tf.tensor(values, shape, tfType as tf.DataType);
    }
    if (end !== dataLength) bad(`${dataLength - end} trailing bytes after the last tensor`);
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw error;
  }
  return { tensors, metadata };
}
