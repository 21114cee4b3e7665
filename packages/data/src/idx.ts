import { InMemoryDataset } from './in-memory-dataset';
import { collectCapped, type GunzipLimits, isGzip, readMaybeGzip } from './internal/node';

/** A parsed IDX file (the MNIST format): big-endian header, then values row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const IDX_TYPES: Record<number, { name: string; bytes: number }> = {
  8: { name: 'ubyte', bytes: 1 },
  9: { name: 'byte', bytes: 1 },
  11: { name: 'short', bytes: 2 },
  12: { name: 'int', bytes: 4 },
  13: { name: 'float', bytes: 4 },
  14: { name: 'double', bytes: 8 },
};

/**
 * Parse the bytes of an (uncompressed) IDX file. Validates the magic number (two zero bytes,
 * a type code, the number of dimensions) and that the length matches the dimensions; errors
 * name `name` (the file). Works everywhere (no Node modules): in a browser, fetch the bytes
 * and gunzip with `gunzipBytes` first.
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (isGzip(bytes)) {
    throw new Error(
      `${name}: the data is gzipped; decompress it first (readIdxFile in Node and gunzipBytes in browsers do it)`,
    );
  }
  if (bytes.length < 4)
    throw new Error(`${name}: only ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0 || !IDX_TYPES[bytes[2]] || bytes[3] === 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new Error(
      `${name}: bad IDX magic number ${magic} (expected 00 00 <type 08/09/0b/0c/0d/0e> <ndim>); is this an IDX file?`,
    );
  }
  const type = IDX_TYPES[bytes[2]];
  const ndim = bytes[3];
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new Error(
      `${name}: truncated header (${bytes.length} bytes, ${ndim} dimensions need ${header})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count * type.bytes;
  if (bytes.length !== expected) {
    throw new Error(
      `${name}: dimensions [${dims}] of ${type.name} need ${expected} bytes, but the file has ${bytes.length}` +
        (bytes.length < expected ? ' (truncated?)' : ' (trailing data)'),
    );
  }
  let data: IdxArray['data'];
  switch (bytes[2]) {
    case 0x08:
      // A plain Uint8Array copy (a Node Buffer's slice would be a view of a pooled buffer).
      data = new Uint8Array(bytes.subarray(header));
      break;
    case 0x09:
      data = new Int8Array(new Uint8Array(bytes.subarray(header)).buffer);
      break;
    default: {
      const Ctor = { 11: Int16Array, 12: Int32Array, 13: Float32Array, 14: Float64Array }[
        bytes[2] as 0x0b | 0x0c | 0x0d | 0x0e
      ];
      const out = new Ctor(count);
      const get = {
        11: (o: number) => view.getInt16(o, false),
        12: (o: number) => view.getInt32(o, false),
        13: (o: number) => view.getFloat32(o, false),
        14: (o: number) => view.getFloat64(o, false),
      }[bytes[2] as 0x0b | 0x0c | 0x0d | 0x0e];
      for (let i = 0; i < count; i++) out[i] = get(header + i * type.bytes);
      data = out;
    }
  }
  return { dims, data };
}

/** Encode an IDX file (ubyte data), e.g. to write fixtures. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, header);
  return out;
}

/**
 * Gunzip bytes when they start with the gzip magic (otherwise return them), with the
 * platform's `DecompressionStream` (browsers, Node >= 18), streaming: it stops past
 * `limits.maxBytes` (default 1 GiB) or the size the data declares (`limits.declared`).
 * Browser-safe.
 */
export async function gunzipBytes(
  bytes: Uint8Array,
  limits: GunzipLimits & { name?: string } = {},
): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const name = limits.name ?? 'gzip data';
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield value;
      }
    },
  };
  try {
    return await collectCapped(chunks, name, limits);
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith(`${name}: decompresses`) || message.startsWith(`${name}: maxBytes`))
      throw error;
    throw new Error(`${name}: starts with the gzip magic but does not gunzip: ${message}`);
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The total size an IDX header declares, once its first bytes are there (for gunzip caps). */
export function idxDeclaredBytes(head: Uint8Array): number | undefined {
  if (head.length < 4) return undefined;
  const type = IDX_TYPES[head[2]];
  if (head[0] !== 0 || head[1] !== 0 || !type || head[3] === 0) return 0; // parseIdx says why
  const header = 4 + 4 * head[3];
  if (head.length < header) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let i = 0; i < head[3]; i++) count *= view.getUint32(4 + 4 * i, false);
  return header + count * type.bytes;
}

/**
 * An image dataset from parsed IDX images (`[N, H, W]` or `[N, H, W, C]` ubyte) and labels
 * (`[N]`). Errors name the files.
 */
export function idxDataset(
  images: IdxArray,
  labels: IdxArray,
  options: { imagesName?: string; labelsName?: string; classNames?: readonly string[] } = {},
): InMemoryDataset {
  const iName = options.imagesName ?? 'images';
  const lName = options.labelsName ?? 'labels';
  if (
    !(images.data instanceof Uint8Array) ||
    (images.dims.length !== 3 && images.dims.length !== 4)
  ) {
    throw new Error(
      `${iName}: expected ubyte images of 3 or 4 dimensions [N, H, W(, C)], received dims [${images.dims}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${lName}: expected labels of 1 dimension [N], received dims [${labels.dims}]`);
  }
  if (labels.dims[0] !== images.dims[0]) {
    throw new Error(
      `${iName} has ${images.dims[0]} images but ${lName} has ${labels.dims[0]} labels`,
    );
  }
  return new InMemoryDataset({
    images: images.data,
    shape: images.dims,
    labels: labels.data,
    classNames: options.classNames,
    name: iName,
  });
}

/**
 * Read and parse an IDX file in Node, gzipped or not (detected by the magic bytes). A gzipped
 * file is decompressed as a stream that stops past the size its IDX header declares, or past
 * `maxBytes` (default 1 GiB).
 */
export async function readIdxFile(
  path: string,
  options: { maxBytes?: number } = {},
): Promise<IdxArray> {
  return parseIdx(
    await readMaybeGzip(path, { maxBytes: options.maxBytes, declared: idxDeclaredBytes }),
    path,
  );
}

/** Node: an image dataset from an IDX images file and an IDX labels file. */
export async function loadIdxDataset(options: {
  images: string;
  labels: string;
  classNames?: readonly string[];
}): Promise<InMemoryDataset> {
  const [images, labels] = await Promise.all([
    readIdxFile(options.images),
    readIdxFile(options.labels),
  ]);
  return idxDataset(images, labels, {
    imagesName: options.images,
    labelsName: options.labels,
    classNames: options.classNames,
  });
}
