// Node only. node:fs and node:path are imported dynamically inside the functions, through
// `importNode`, whose specifier is a parameter: bundlers neither resolve nor rewrite it (tsup
// would strip the `node:` prefix of a literal, and webpack / Vite would try to resolve it for
// the browser). So a browser bundle that imports the package barrel never loads them. This file
// must keep only type imports at the top (a test transpiles it alone into a child process).
import type { FileHandle } from 'node:fs/promises';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** Import a Node built-in at run time, invisible to bundlers. */
export function importNode<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

export const importFs = () => importNode<Fs>('node:fs/promises');
export const importPath = () => importNode<Path>('node:path');

/**
 * Write `path` atomically: the content goes to a temporary file in the same directory
 * (`.<name>.<pid>.<random>.tmp`), which is fsynced, renamed over `path`, and the directory is
 * fsynced. A crash at any point leaves either the previous file or the complete new one under
 * `path` (a crash before the rename may leave the temporary file behind). If `write` throws,
 * the temporary file is removed and `path` is untouched.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const fs = await importFs();
  const { dirname, basename, join } = await importPath();
  const directory = dirname(path);
  const temporary = join(
    directory,
    `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  const handle = await fs.open(temporary, 'wx', 0o644);
  let renamed = false;
  try {
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
    renamed = true;
  } finally {
    if (!renamed) await fs.rm(temporary, { force: true }).catch(() => {});
  }
  await syncDirectory(directory);
}

/** fsync a directory so a rename in it is durable (a no-op where directories cannot be opened). */
async function syncDirectory(directory: string): Promise<void> {
  const fs = await importFs();
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Write all of `bytes` at the handle's current position. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Read exactly `length` bytes at `position`, or throw naming the file. */
export async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  describe: () => string,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const out = into ?? new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(out, filled, length - filled, position + filled);
    if (bytesRead === 0) {
      throw new Error(
        `${describe()}: truncated: expected ${length} bytes at offset ${position}, received ${filled}`,
      );
    }
    filled += bytesRead;
  }
  return out;
}
