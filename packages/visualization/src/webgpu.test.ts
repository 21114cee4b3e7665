import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserPageReport, runBrowserPage } from '@convkit/tooling/browser';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebgpuVisualizationResult } from './__fixtures__/webgpu-page';

const RESULT_GLOBAL = '__convkitVisualizationWebgpu';
const CHECKS = [
  'feature maps: canvas pixels are the tensor values through viridis',
  'Grad-CAM equals PyTorch at webgpu tolerance',
  'Grad-CAM heatmap: canvas pixels are the tensor values through inferno',
  'reconstruction: the loss falls',
  'reconstruction: canvas pixels are the tensor values',
  'the composed canvas holds the composed image',
  'numTensors is back where it started',
  'reconstruction: first loss equals cpu at webgpu tolerance',
];

// Feature maps, Grad-CAM and a reconstruction on webgpu in headless Chromium (SwiftShader),
// drawn into canvases: one page run feeds one test per check. Set CONVKIT_SCREENSHOT_DIR to
// keep the composed canvas as visualization-webgpu.png.
describe('visualization on webgpu in headless Chromium, drawn into a canvas', () => {
  let page: BrowserPageReport<WebgpuVisualizationResult>;

  beforeAll(async () => {
    page = await runBrowserPage<WebgpuVisualizationResult>({
      entry: fileURLToPath(new URL('./__fixtures__/webgpu-page.ts', import.meta.url)),
      resultGlobal: RESULT_GLOBAL,
    });
    console.log(
      `webgpu visualization: ${page.result.report?.device ?? 'no adapter'}; page ${page.result.ms.toFixed(0)} ms (total ${page.timings.totalMs.toFixed(0)} ms)`,
    );
  }, 300_000);

  it('the page ran on a WebGPU adapter', () => {
    expect(page.result.fatal, `${page.result.fatal}\n${page.console.join('\n')}`).toBeUndefined();
    expect(page.result.report?.backend).toBe('webgpu');
    expect(Object.keys(page.result.checks).sort()).toEqual([...CHECKS].sort());
  });

  it.each(CHECKS)('%s', (check) => {
    const problems = page.result.checks[check];
    expect(problems, `${check} did not run`).toBeDefined();
    expect(problems, problems?.join('\n')).toEqual([]);
  });

  it("the canvas's PNG holds the composed picture (7 tiles of 8 px at 16x)", async () => {
    const url = page.result.screenshot ?? '';
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const bytes = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
    const png = decode(bytes);
    expect([png.width, png.height]).toEqual([7 * 128 + 8 * 4, 128 + 2 * 4]);
    const dir = process.env.CONVKIT_SCREENSHOT_DIR;
    if (dir) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'visualization-webgpu.png'), bytes);
    }
  });
});
