import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package, not the sources: plain `node` resolves `@convkit/backend` through the
// package's own exports map to dist/index.js (ESM) and dist/index.cjs (CJS).
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

describe.each(['check-esm.mjs', 'check-cjs.cjs'])(
  'built @convkit/backend from plain node (%s)',
  (script) => {
    it('selects wasm and trains a small conv net with the cpu backend gradients', () => {
      expect(existsSync(join(dist, 'index.js')), 'dist is missing: run `pnpm build` first').toBe(
        true,
      );
      const result = runChild(script);
      expect(result.backend).toBe('wasm');
      expect(result.canTrainConvNets).toBe(true);
      expect(result.leaked).toBe(0);
      expect(Math.abs(result.loss - result.referenceLoss)).toBeLessThan(1e-5);
      expect(result.worstRatio, `worst |difference| ${result.worstAbs}`).toBeLessThanOrEqual(1);
    });
  },
);
