// Node only, loaded on demand through @convkit/backend's lazy imports, so a browser bundle of
// the barrel never loads node:fs or node:path.
import { importFs, importPath } from '@convkit/backend';

export async function makeDirectory(dir: string): Promise<void> {
  const fs = await importFs();
  await fs.mkdir(dir, { recursive: true });
}

export async function joinPath(...parts: string[]): Promise<string> {
  const path = await importPath();
  return path.join(...parts);
}

/**
 * Import one of this package's optional peers (vega, vega-lite, @resvg/resvg-js) at run time,
 * invisible to bundlers. It must live in this package: a dynamic import resolves from the file
 * that makes it, and under pnpm's strict layout @convkit/backend's `importOptional` cannot see
 * our peers.
 */
export function importPeer<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}
