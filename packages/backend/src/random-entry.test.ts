import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// `@convkit/backend/random` is for packages that only need seeded randomness: its built entry
// must not reach the wasm backend or the kernels, not even through a lazy `import()` that a
// bundler would still pull into a web app.
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

/** Every specifier the built ESM file reaches: its own, and those of the chunks it imports. */
function importGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) visit(join(dirname(file), fileName));
      else packages.add(fileName);
    }
  };
  visit(join(dist, entry));
  return { files: [...files], packages: [...packages] };
}

describe('@convkit/backend/random (built)', () => {
  it('the main entry reaches the wasm backend (the walk can see it)', () => {
    expect(existsSync(join(dist, 'random.js')), 'dist is missing: run `pnpm build` first').toBe(
      true,
    );
    expect(importGraph('index.js').packages).toContain('@tensorflow/tfjs-backend-wasm');
  });

  it('the random entry reaches tfjs-core only, and no backend loader or kernel', () => {
    const { files, packages } = importGraph('random.js');
    expect(packages).toEqual(['@tensorflow/tfjs-core']);
    const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(code).not.toMatch(/registerWasmTrainingKernels|selectBackend|Conv2DBackpropFilter/);
  });

  it('requiring it from plain node loads neither the wasm backend nor the main entry, and shares the seed', () => {
    const script = `
      const random = require('@convkit/backend/random');
      random.manualSeed(7);
      const first = Array.from(random.globalRandom().uniformArray(3));
      const loaded = Object.keys(require.cache);
      const main = require('@convkit/backend');
      main.manualSeed(7);
      const again = Array.from(random.globalRandom().uniformArray(3));
      console.log(JSON.stringify({ loaded, same: first.join() === again.join() }));
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: join(here, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { loaded, same } = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(loaded.some((path: string) => path.endsWith('random.cjs'))).toBe(true);
    expect(loaded.filter((path: string) => path.includes('tfjs-backend-wasm'))).toEqual([]);
    const backendFiles = loaded.filter((path: string) => path.startsWith(dist));
    expect(backendFiles.map((path: string) => path.slice(dist.length + 1))).toEqual(['random.cjs']);
    expect(same).toBe(true);
  });
});
