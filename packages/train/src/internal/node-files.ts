/**
 * Node file helpers, loaded with a dynamic import so that the package has no import-time
 * dependency on Node (it also runs in browsers, where only these helpers are unavailable).
 */

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

let modules: Promise<{ fs: Fs; path: Path }> | undefined;

export function nodeModules(): Promise<{ fs: Fs; path: Path }> {
  modules ??= (async () => {
    try {
      const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
      return { fs, path };
    } catch {
      throw new Error('checkpoint files and CSV logs need Node (node:fs is not available here)');
    }
  })();
  return modules;
}

/**
 * Write `data` to `file` atomically: a temporary file beside it, fsync, rename over the target,
 * then fsync the directory. A crash at any moment leaves either the old or the new file whole.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const { fs, path } = await nodeModules();
  const dir = path.dirname(file);
  const temp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync a directory so that a rename in it is durable (a no-op where directories cannot be opened). */
export async function syncDirectory(dir: string): Promise<void> {
  const { fs } = await nodeModules();
  let handle: Awaited<ReturnType<Fs['open']>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open directories; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}
