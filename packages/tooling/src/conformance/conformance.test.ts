import { selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONFORMANCE_CASES,
  type ConformanceComparison,
  type ConformanceRun,
  compareConformance,
  formatComparison,
  knownIssueOn,
  runConformance,
} from './index';

describe('cross-backend conformance in Node: wasm against cpu', () => {
  let reference: ConformanceRun;
  let wasm: ConformanceRun;
  let comparison: ConformanceComparison;

  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
    reference = await runConformance(tf, 'cpu');
    const report = await selectBackend({ backend: 'wasm' });
    console.log(
      `wasm: ${report.device}; patched kernels: ${report.capabilities.patchedKernels.join(', ') || 'none'}`,
    );
    wasm = await runConformance(tf, 'wasm');
    comparison = compareConformance(reference, wasm);
    console.log(
      `${formatComparison(comparison)}\n(cpu ${reference.ms.toFixed(0)} ms, wasm ${wasm.ms.toFixed(0)} ms)`,
    );
  });

  it('the cpu reference runs every case but those with a known cpu issue', () => {
    const unexpected = reference.results.filter(
      (r) => r.error && !knownIssueOn(CONFORMANCE_CASES.find((c) => c.name === r.name)!, 'cpu'),
    );
    expect(unexpected.map((r) => `${r.name}: ${r.error}`)).toEqual([]);
  });

  // A case failing because of a bug in tfjs itself is expected to fail (it.fails): the test
  // goes red once the bug is fixed or patched, so the mark does not outlive it.
  for (const c of CONFORMANCE_CASES) {
    const known = knownIssueOn(c, 'wasm');
    (known ? it.fails : it)(known ? `${c.name} (known tfjs issue)` : c.name, () => {
      const result = comparison.cases.find((r) => r.name === c.name);
      expect(result, `no result for ${c.name}`).toBeDefined();
      expect(result!.pass, result!.failure).toBe(true);
    });
  }
});
