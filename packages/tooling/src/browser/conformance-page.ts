/**
 * The page behind the browser conformance suite (bundled by run-browser-conformance.ts): brings
 * up cpu, wasm and webgpu through `selectBackend`, runs every conformance case on each,
 * compares wasm and webgpu with cpu, checks what `selectBackend()` picks by itself, and leaves
 * the result on `window.__convkitConformance`.
 */

import { selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { type ConformanceRun, compareConformance, runConformance } from '../conformance/index';
import { type BrowserBackendRun, type BrowserConformanceResult, RESULT_GLOBAL } from './result';

const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;

function message(error: unknown): string {
  return error instanceof Error
    ? `${error.message}${error.stack ? `\n${error.stack}` : ''}`
    : String(error);
}

async function main(): Promise<BrowserConformanceResult> {
  // The runner serves tfjs-backend-wasm's .wasm files next to this page.
  const wasmPaths = new URL('./', location.href).href;
  const backends = {} as BrowserConformanceResult['backends'];
  const runs: Partial<Record<(typeof BACKENDS)[number], ConformanceRun>> = {};

  for (const backend of BACKENDS) {
    const entry: BrowserBackendRun = { ms: 0, errors: {} };
    backends[backend] = entry;
    try {
      entry.report = await selectBackend({ backend, wasmPaths });
    } catch (error) {
      entry.selectError = message(error);
      console.log(`[conformance] ${backend}: selectBackend failed: ${entry.selectError}`);
      continue;
    }
    console.log(`[conformance] ${backend}: ${entry.report.device}`);
    const run = await runConformance(tf, entry.report.tfjsName);
    runs[backend] = run;
    entry.ms = run.ms;
    for (const r of run.results) if (r.error) entry.errors[r.name] = r.error;
    console.log(`[conformance] ${backend}: ${run.results.length} cases in ${run.ms.toFixed(0)} ms`);
  }

  const comparisons: BrowserConformanceResult['comparisons'] = {};
  const reference = runs.cpu;
  if (reference) {
    for (const candidate of ['wasm', 'webgpu'] as const) {
      const run = runs[candidate];
      if (run)
        comparisons[candidate] = compareConformance(reference, { ...run, backend: candidate });
    }
  }

  let auto: BrowserConformanceResult['auto'];
  try {
    auto = { report: await selectBackend({ wasmPaths }) };
  } catch (error) {
    auto = { error: message(error) };
  }

  return { done: true, userAgent: navigator.userAgent, backends, comparisons, auto };
}

main()
  .catch(
    (error): BrowserConformanceResult => ({
      done: true,
      fatal: message(error),
      userAgent: navigator.userAgent,
      backends: {} as BrowserConformanceResult['backends'],
      comparisons: {},
    }),
  )
  .then((result) => {
    (window as unknown as Record<string, unknown>)[RESULT_GLOBAL] = result;
  });
