import { findMismatch, RTOL, useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  leastSquares,
  makeOptimizer,
  OPTIMIZER_CASES,
  trainStep,
} from './__fixtures__/optimizer-cases';

// Every optimizer's 50-step trajectory against PyTorch 1.13 (fixtures/generate.py), float32.
const ATOL: Record<string, number> = { cpu: 1e-6, wasm: 1e-5 };

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`optimizer trajectories vs PyTorch 1.13 (${backend})`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    afterAll(() => {});

    for (const [name, c] of Object.entries(OPTIMIZER_CASES)) {
      it(`${name}: 50 steps within rtol ${RTOL[backend]}`, () => {
        const { w, b, loss, dispose } = leastSquares();
        const opt = makeOptimizer(c, w, b);
        const problems: string[] = [];
        c.steps.forEach((expected, i) => {
          trainStep(opt, loss, [w, b]);
          for (const [label, v, e] of [
            ['w', w, expected.w],
            ['b', b, expected.b],
          ] as const) {
            const m = findMismatch(v.dataSync(), e, { rtol: RTOL[backend], atol: ATOL[backend] });
            if (m) problems.push(`step ${i + 1} ${label} ${m}`);
          }
          // ASGD: the averaged iterates (state 'ax') too.
          const ax = (expected as { ax?: number[][] }).ax;
          ax?.forEach((e, k) => {
            const v = opt.stateFor([w, b][k])!.tensors.ax;
            const m = findMismatch(v.dataSync(), e, { rtol: RTOL[backend], atol: ATOL[backend] });
            if (m) problems.push(`step ${i + 1} ax[${k}] ${m}`);
          });
        });
        opt.dispose();
        dispose();
        expect(problems.slice(0, 3)).toEqual([]);
      });
    }
  });
}
