// Node only, loaded on demand: node:fs / node:path and the optional peer @resvg/resvg-js are
// imported inside the functions through `importModule`, whose specifier is a parameter, so
// bundlers neither resolve nor rewrite it and a browser bundle of the barrel never loads them.

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** Import a module at run time, invisible to bundlers. */
export function importModule<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * Write `data` to `file` atomically: a temporary file beside it, fsync, rename over the target.
 * (The same protocol as @convkit/weights' and @convkit/train's private writers; visualization
 * may not depend on those packages.)
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const fs = await importModule<Fs>('node:fs/promises');
  const path = await importModule<Path>('node:path');
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  const handle = await fs.open(temp, 'wx', 0o644);
  let renamed = false;
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
    renamed = true;
  } finally {
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => {});
  }
}

export async function makeDirectory(dir: string): Promise<void> {
  const fs = await importModule<Fs>('node:fs/promises');
  await fs.mkdir(dir, { recursive: true });
}

export async function joinPath(...parts: string[]): Promise<string> {
  const path = await importModule<Path>('node:path');
  return path.join(...parts);
}
