import { importFs, importPath } from '@convkit/backend';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

let modules: Promise<{ fs: Fs; path: Path }> | undefined;

/**
 * node:fs and node:path, loaded on first use (the package also runs in browsers, where only
 * checkpoint files and CSV logs are unavailable), with an error that says what needs them.
 */
export function nodeModules(): Promise<{ fs: Fs; path: Path }> {
  modules ??= (async () => {
    try {
      const [fs, path] = await Promise.all([importFs(), importPath()]);
      return { fs, path };
    } catch {
      throw new Error('checkpoint files and CSV logs need Node (node:fs is not available here)');
    }
  })();
  return modules;
}
