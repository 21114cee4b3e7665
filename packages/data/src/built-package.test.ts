import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package from plain node (ESM and CJS): its exports map, and the Node modules it
// imports lazily (node:fs, node:zlib, pngjs) resolve in both formats.
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

function runChild(script: string) {
  const out = execFileSync(process.execPath, [join(here, '__fixtures__', script)], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('built @convkit/data from plain node', () => {
  it('ESM and CJS builds load IDX, PNG folders and run a seeded loader identically', () => {
    expect(existsSync(join(dist, 'index.js')), 'dist is missing: run `pnpm build` first').toBe(
      true,
    );
    const esm = runChild('check-esm.mjs');
    const cjs = runChild('check-cjs.cjs');
    expect(esm).toEqual(cjs);
    expect(esm.idxLength).toBe(3);
    expect(esm.idxFirst).toBe(51);
    expect(esm.pixel).toEqual([10, 20, 30]);
    expect(esm.shapesSeen).toEqual([
      [8, 8, 8, 1],
      [8, 8, 8, 1],
      [4, 8, 8, 1],
    ]);
    expect(esm.leaked).toBe(0);
  });
});
