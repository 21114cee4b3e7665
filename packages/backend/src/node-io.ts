// The one way convkit reaches optional packages and Node built-ins, and its one atomic file
// writer. Every import here is dynamic, through `importOptional`, whose specifier is a
// parameter: bundlers neither resolve nor rewrite it (tsup would strip the `node:` prefix of a
// literal; webpack / Vite would try to resolve it for the browser), so a browser bundle of any
// package barrel never loads Node modules. This file keeps only type imports at the top: a test
// transpiles it alone and runs it in a child process.
import type { FileHandle } from 'node:fs/promises';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/**
 * Import a Node built-in or one of this package's optional peers at run time, invisible to
 * bundlers, so a browser bundle never chokes on Node-only modules (node:fs, tfjs-node, webgpu)
 * it will not use. A dynamic import resolves from the file that makes it, so another package
 * imports its own optional peers with its own one-line `import(specifier)`.
 */
export function importOptional<T = any>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

/** True when `error` says that `packageName` itself (not one of its files) is missing. */
export function isMissingPackage(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  const message = e?.message ?? '';
  const notFound =
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)|Could not resolve|Failed to resolve module specifier|Failed to fetch dynamically imported module/i.test(
      message,
    );
  return notFound && message.includes(packageName);
}

/** `node:fs/promises`, loaded on first use. */
export const importFs = (): Promise<Fs> => importOptional<Fs>('node:fs/promises');
/** `node:path`, loaded on first use. */
export const importPath = (): Promise<Path> => importOptional<Path>('node:path');

/**
 * Node: write `path` atomically. The content (bytes, a string, or a function that writes
 * through the handle, for streams) goes to a temporary file in the same directory
 * (`.<name>.<pid>.<random>.tmp`), which is fsynced, renamed over `path`, and the directory is
 * fsynced. A crash at any moment leaves either the previous file or the complete new one under
 * `path` (a crash before the rename may leave the temporary file behind). If writing throws,
 * the temporary file is removed and `path` is untouched.
 */
export async function writeFileAtomic(
  path: string,
  content: Uint8Array | string | ((handle: FileHandle) => Promise<void>),
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
      if (typeof content === 'function') await content(handle);
      else await handle.writeFile(content);
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
export async function syncDirectory(directory: string): Promise<void> {
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
