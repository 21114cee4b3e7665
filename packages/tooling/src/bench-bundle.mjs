// Lets a package's benchmark script (plain `node`, no build) use that package's TypeScript
// sources: the given export lines are bundled with esbuild into `<benchDir>/.out/` with tfjs and
// every @convkit package left external, so they resolve from the package's node_modules and
// everything shares one tfjs engine.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundle `exportLines` (ES export statements, paths relative to `benchDir`) and import them.
 * @param {string} benchDir
 * @param {string[]} exportLines
 * @param {{ external?: string[] }} [options] more packages to leave external (resolved from
 *   `benchDir`'s node_modules), e.g. Node-only ones that esbuild should not inline
 * @returns {Promise<Record<string, any>>}
 */
export async function importForBench(benchDir, exportLines, options = {}) {
  const out = join(benchDir, '.out');
  mkdirSync(out, { recursive: true });
  const outfile = join(out, 'bench-entry.mjs');
  await build({
    stdin: { contents: exportLines.join('\n'), resolveDir: benchDir, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    external: ['@tensorflow/*', '@convkit/*', ...(options.external ?? [])],
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}
