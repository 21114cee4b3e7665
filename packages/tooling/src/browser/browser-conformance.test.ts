import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, formatComparison, knownIssueOn } from '../conformance/index';
import { type BrowserConformanceReport, runBrowserConformance } from './run-browser-conformance';

// One run of the page (bundle, serve, Chromium, every backend) feeds every test below. A
// missing /usr/bin/chromium makes beforeAll throw, so every test fails with the install line.
describe('cross-backend conformance in headless Chromium: wasm and webgpu against cpu', () => {
  let report: BrowserConformanceReport;

  beforeAll(async () => {
    report = await runBrowserConformance();
    const t = report.timings;
    console.log(
      `browser conformance: bundle ${t.bundleMs.toFixed(0)} ms, launch ${t.launchMs.toFixed(0)} ms, ` +
        `page ${t.pageMs.toFixed(0)} ms (cpu ${report.backends.cpu?.ms.toFixed(0)} ms, ` +
        `wasm ${report.backends.wasm?.ms.toFixed(0)} ms, webgpu ${report.backends.webgpu?.ms.toFixed(0)} ms), ` +
        `total ${t.totalMs.toFixed(0)} ms`,
    );
    console.log(
      `WebGPU: ${report.backends.webgpu?.report?.device ?? report.backends.webgpu?.selectError}`,
    );
    const wasm = report.backends.wasm?.report;
    console.log(
      `wasm: ${wasm?.device ?? report.backends.wasm?.selectError}; kernels provided by convkit: ${wasm?.capabilities.patchedKernels.join(', ') || 'none'}`,
    );
    for (const comparison of Object.values(report.comparisons)) {
      if (comparison) console.log(formatComparison(comparison));
    }
  }, 240_000);

  it('the page ran to the end', () => {
    expect(report.fatal, `${report.fatal}\n${report.console.join('\n')}`).toBeUndefined();
  });

  it('webgpu comes up with a named adapter', () => {
    const webgpu = report.backends.webgpu;
    expect(webgpu?.selectError, 'selectBackend({ backend: "webgpu" }) threw').toBeUndefined();
    expect(webgpu.report?.backend).toBe('webgpu');
    expect(webgpu.report?.tfjsName).toBe('webgpu');
    expect(webgpu.report?.platform).toBe('browser');
    const device = webgpu.report?.device ?? '';
    expect(device).toMatch(/^WebGPU adapter: /);
    expect(device.replace(/^WebGPU adapter: /, '')).not.toMatch(/^(unnamed)?$/);
  });

  it('cpu and wasm come up in the browser', () => {
    expect(report.backends.cpu?.report?.backend, report.backends.cpu?.selectError).toBe('cpu');
    expect(report.backends.wasm?.report?.backend, report.backends.wasm?.selectError).toBe('wasm');
  });

  it('the cpu reference runs every case but those with a known cpu issue', () => {
    const unexpected = Object.entries(report.backends.cpu.errors).filter(
      ([name]) => !knownIssueOn(CONFORMANCE_CASES.find((c) => c.name === name)!, 'cpu'),
    );
    expect(Object.fromEntries(unexpected)).toEqual({});
  });

  it('selectBackend() with no arguments picks webgpu in the browser', () => {
    expect(report.auto?.error).toBeUndefined();
    expect(report.auto?.report?.backend).toBe('webgpu');
    expect(report.auto?.report?.skipped).toEqual([]);
  });

  // One test per backend and case; a case failing because of a bug in tfjs itself is expected
  // to fail (it.fails), so the mark goes red once the bug is fixed or patched.
  for (const backend of ['wasm', 'webgpu'] as const) {
    describe(backend, () => {
      for (const c of CONFORMANCE_CASES) {
        const known = knownIssueOn(c, backend);
        (known ? it.fails : it)(known ? `${c.name} (known tfjs issue)` : c.name, () => {
          const comparison = report.comparisons[backend];
          expect(
            comparison,
            `${backend} did not run: ${report.backends[backend]?.selectError}`,
          ).toBeDefined();
          const result = comparison!.cases.find((r) => r.name === c.name);
          expect(result, `no result for ${c.name}`).toBeDefined();
          expect(result!.pass, result!.failure).toBe(true);
        });
      }
    });
  }
});
