// Node-only modules, loaded on first use. Nothing in this package imports `node:*` (or
// pngjs, which needs `zlib` and `stream`) at module level: a browser bundle that never calls a
// Node entry (`readIdxFile`, `imageFolderDataset`, `loadFashionMnist`, ...) tree-shakes these
// loaders away, and one that does call them fails with a clear error rather than at import.

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

async function load<T>(name: string, loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    throw notNode(name, error);
  }
}

export const nodeFs = () => load<FsPromises>('node:fs/promises', () => import('node:fs/promises'));
export const nodePath = () => load<Path>('node:path', () => import('node:path'));
export const nodeZlib = () => load<Zlib>('node:zlib', () => import('node:zlib'));
export const nodeOs = () => load<Os>('node:os', () => import('node:os'));
export const nodeCrypto = () => load<Crypto>('node:crypto', () => import('node:crypto'));

/** `process.env[name]` where a `process` exists (undefined in browsers). */
export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Read a whole file as bytes, gunzipping it when it starts with the gzip magic. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!isGzip(bytes)) return bytes;
  const zlib = await nodeZlib();
  try {
    return zlib.gunzipSync(bytes);
  } catch (error) {
    throw new Error(
      `${path}: starts with the gzip magic but does not gunzip: ${(error as Error).message}`,
    );
  }
}
