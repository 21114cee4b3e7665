import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package, not the sources: plain `node` resolves `@convkit/onnx` through the
// package's exports map to dist/index.js (ESM) and dist/index.cjs (CJS).
const here = dirname(fileURLToPath(import.meta.url));

describe.each(['esm', 'cjs'])('built @convkit/onnx from plain node (%s)', (kind) => {
  it('exports a net and runs it in onnxruntime-node, loaded by itself', () => {
    expect(
      existsSync(join(here, '..', 'dist', 'index.js')),
      'dist is missing: run `pnpm build` first',
    ).toBe(true);
    const out = execFileSync(
      process.execPath,
      [join(here, '__fixtures__', 'check-built.mjs'), kind],
      {
        cwd: join(here, '..'),
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(result.ops).toEqual({ Conv: 1, Flatten: 1, Gemm: 1, Identity: 1 });
    expect(result.shape).toEqual([2, 4]);
    expect(result.maxAbs).toBeLessThan(1e-5);
  });
});
