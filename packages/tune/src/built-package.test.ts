import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package from plain node (ESM and CJS): the exports map, the lazily imported Node
// modules, and the worker-thread entry that threadRunner finds beside the build.
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

describe('built @convkit/tune from plain node', () => {
  it('ESM and CJS builds run the same study in-process and on the default thread entry', () => {
    expect(
      existsSync(join(dist, 'thread-worker.js')),
      'dist is missing: run `pnpm build` first',
    ).toBe(true);
    const esm = runChild('check-esm.mjs');
    const cjs = runChild('check-cjs.cjs');
    expect(esm.inProcess.length).toBe(8);
    expect(esm.threads).toEqual(esm.inProcess);
    expect(esm.threadWorkers).toBe(2);
    expect(cjs).toEqual(esm);
  });
});
