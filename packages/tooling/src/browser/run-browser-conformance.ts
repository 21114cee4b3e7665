import { fileURLToPath } from 'node:url';
import type { BrowserConformanceResult } from './result';
import { RESULT_GLOBAL } from './result';
import { type BrowserPageReport, runBrowserPage } from './run-page';

export type { BrowserBackendRun, BrowserConformanceResult } from './result';
export { CHROMIUM_ARGS, CHROMIUM_PATH } from './run-page';

export type BrowserConformanceReport = BrowserConformanceResult &
  Omit<BrowserPageReport<BrowserConformanceResult>, 'result'>;

const PAGE_ENTRY = fileURLToPath(new URL('./conformance-page.ts', import.meta.url));

/**
 * The browser conformance suite: the conformance page in headless Chromium brings up cpu, wasm
 * and webgpu through `selectBackend`, runs every conformance case on each, compares wasm and
 * webgpu with cpu, and checks what `selectBackend()` picks by itself.
 */
export async function runBrowserConformance(
  options: { executablePath?: string; timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<BrowserConformanceReport> {
  const { result, ...rest } = await runBrowserPage<BrowserConformanceResult>({
    ...options,
    entry: PAGE_ENTRY,
    resultGlobal: RESULT_GLOBAL,
  });
  return { ...result, ...rest };
}
