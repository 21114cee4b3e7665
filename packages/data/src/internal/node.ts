// Node-only modules, loaded on first use. Nothing in this package imports `node:*` (or
// pngjs, which needs `zlib` and `stream`) at module level: a browser bundle that never calls a
// Node entry (`readIdxFile`, `imageFolderDataset`, `loadFashionMnist`, ...) tree-shakes these
// loaders away, and one that does call them fails with a clear error rather than at import.
import { importOptional } from '@convkit/backend';

type FsPromises = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Zlib = typeof import('node:zlib');
type Os = typeof import('node:os');
type Crypto = typeof import('node:crypto');

function notNode(what: string, error: unknown): Error {
  return new Error(
    `${what} needs Node.js (it reads the file system); in a browser use the browser sources ` +
      `(imageUrlDataset, fileListDataset, parseIdx on fetched bytes). Cause: ${String(error)}`,
  );
}

async function load<T>(specifier: string): Promise<T> {
  try {
    return await importOptional<T>(specifier);
  } catch (error) {
    throw notNode(specifier, error);
  }
}

export const nodeFs = () => load<FsPromises>('node:fs/promises');
export const nodePath = () => load<Path>('node:path');
export const nodeZlib = () => load<Zlib>('node:zlib');
export const nodeOs = () => load<Os>('node:os');
export const nodeCrypto = () => load<Crypto>('node:crypto');

/** `process.env[name]` where a `process` exists (undefined in browsers). */
export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Largest decompressed size accepted by default (1 GiB; Fashion-MNIST's largest file is 47 MB). */
export const MAX_DECOMPRESSED_BYTES = 2 ** 30;

export interface GunzipLimits {
  /** Stop past this many decompressed bytes (default MAX_DECOMPRESSED_BYTES). */
  maxBytes?: number;
  /**
   * The size the data declares, read from its first decompressed bytes (an IDX header), or
   * undefined while too few bytes have arrived: decompression stops as soon as it passes it.
   */
  declared?: (head: Uint8Array) => number | undefined;
}

/**
 * Collect decompressed chunks, stopping as soon as the total passes `maxBytes` or the size the
 * data declares; memory stays bounded by the limit plus one chunk. `name` appears in errors.
 */
export async function collectCapped(
  chunks: AsyncIterable<Uint8Array>,
  name: string,
  limits: GunzipLimits,
): Promise<Uint8Array> {
  const maxBytes = limits.maxBytes ?? MAX_DECOMPRESSED_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new Error(`${name}: maxBytes must be a non-negative integer, received ${maxBytes}`);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  let declared: number | undefined;
  for await (const chunk of chunks) {
    parts.push(chunk);
    total += chunk.byteLength;
    if (declared === undefined && limits.declared) {
      declared = limits.declared(join(parts, Math.min(total, 1024)));
    }
    if (declared !== undefined && declared <= maxBytes && total > declared) {
      throw new Error(
        `${name}: decompresses to more than the ${declared} bytes its IDX header declares`,
      );
    }
    if (total > maxBytes) {
      throw new Error(
        `${name}: decompresses to more than the ${maxBytes}-byte limit (option maxBytes)`,
      );
    }
  }
  return join(parts, total);
}

function join(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    if (offset >= length) break;
    const n = Math.min(part.byteLength, length - offset);
    out.set(part.subarray(0, n), offset);
    offset += n;
  }
  return out;
}

/**
 * Read a whole file as bytes, gunzipping it (streaming, with the caps of `limits`) when it
 * starts with the gzip magic.
 */
export async function readMaybeGzip(path: string, limits: GunzipLimits = {}): Promise<Uint8Array> {
  const fs = await nodeFs();
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!isGzip(bytes)) return bytes;
  const zlib = await nodeZlib();
  const gunzip = zlib.createGunzip();
  gunzip.end(bytes);
  try {
    return await collectCapped(gunzip, path, limits);
  } catch (error) {
    if ((error as Error).message.startsWith(`${path}: decompresses`)) throw error;
    if ((error as Error).message.startsWith(`${path}: maxBytes`)) throw error;
    throw new Error(
      `${path}: starts with the gzip magic but does not gunzip: ${(error as Error).message}`,
    );
  } finally {
    gunzip.destroy();
  }
}
