import { fileURLToPath } from 'node:url';
import { type BrowserPageReport, runBrowserPage } from '@convkit/tooling/browser';
import { beforeAll, describe, expect, it } from 'vitest';
import convPool from './__fixtures__/conv-pool.json';
import normAct from './__fixtures__/norm-act.json';
import type { WebgpuLayersResult } from './__fixtures__/webgpu-page';

const RESULT_GLOBAL = '__convkitLayersWebgpu';
const labels = Object.entries({ 'conv-pool': convPool, 'norm-act': normAct }).flatMap(([file, f]) =>
  Object.entries(
    (f as { cases: Record<string, { train?: unknown; eval?: unknown }> }).cases,
  ).flatMap(([name, c]) =>
    (['train', 'eval'] as const).filter((m) => c[m]).map((m) => `${file}/${name} (${m})`),
  ),
);

// Every PyTorch layer fixture on webgpu in headless Chromium (SwiftShader): one page run feeds
// one test per case and mode.
describe('layers on webgpu in headless Chromium, against PyTorch', () => {
  let page: BrowserPageReport<WebgpuLayersResult>;

  beforeAll(async () => {
    page = await runBrowserPage<WebgpuLayersResult>({
      entry: fileURLToPath(new URL('./__fixtures__/webgpu-page.ts', import.meta.url)),
      resultGlobal: RESULT_GLOBAL,
    });
    console.log(
      `webgpu layers: ${page.result.report?.device ?? 'no adapter'}; ${Object.keys(page.result.cases).length} cases in ${page.result.ms.toFixed(0)} ms (total ${page.timings.totalMs.toFixed(0)} ms)`,
    );
  }, 300_000);

  it('the page ran on a WebGPU adapter', () => {
    expect(page.result.fatal, `${page.result.fatal}\n${page.console.join('\n')}`).toBeUndefined();
    expect(page.result.report?.backend).toBe('webgpu');
  });

  it.each(labels)('%s', (label) => {
    const problems = page.result.cases[label];
    expect(problems, `${label} did not run`).toBeDefined();
    expect(problems, problems?.join('\n')).toEqual([]);
  });
});
