/**
 * The page of the layers' WebGPU suite (bundled and opened in headless Chromium by
 * webgpu.test.ts): every case of the PyTorch layer fixtures, forward and gradients, on the
 * webgpu backend, compared with PyTorch at webgpu's tolerance. Leaves the outcome on `window`.
 */
import { type BackendReport, selectBackend } from '@convkit/backend';
import {
  compareLayerCase,
  LAYER_TOLERANCE,
  type LayerFixtureFile,
  type LayerFixtureResult,
  runLayerCase,
} from '@convkit/tooling/layer-case';
import convPool from './conv-pool.json';
import normAct from './norm-act.json';
import { LAYER_TYPES } from '../from-json';

export const WEBGPU_LAYERS_RESULT = '__convkitLayersWebgpu';

export interface WebgpuLayersResult {
  done: true;
  fatal?: string;
  report?: BackendReport;
  /** `file/case (mode)` -> the problems found (empty when it matches PyTorch). */
  cases: Record<string, string[]>;
  ms: number;
}

async function main(): Promise<WebgpuLayersResult> {
  const started = performance.now();
  const report = await selectBackend({ backend: 'webgpu' });
  const cases: Record<string, string[]> = {};
  const files = { 'conv-pool': convPool, 'norm-act': normAct } as unknown as Record<
    string,
    LayerFixtureFile
  >;
  for (const [file, fixture] of Object.entries(files)) {
    for (const [name, c] of Object.entries(fixture.cases)) {
      for (const mode of ['train', 'eval'] as const) {
        if (!c[mode]) continue;
        const label = `${file}/${name} (${mode})`;
        try {
          const Layer = LAYER_TYPES[c.convkit ?? c.module];
          const run = await runLayerCase(new Layer(c.options ?? {}), c, mode);
          cases[label] = compareLayerCase(
            run,
            c[mode] as LayerFixtureResult,
            LAYER_TOLERANCE.webgpu,
          );
        } catch (error) {
          cases[label] = [`threw: ${(error as Error).message}`];
        }
      }
    }
  }
  return { done: true, report, cases, ms: performance.now() - started };
}

main()
  .catch(
    (error): WebgpuLayersResult => ({
      done: true,
      fatal: String(error?.stack ?? error),
      cases: {},
      ms: 0,
    }),
  )
  .then((result) => {
    (window as unknown as Record<string, unknown>)[WEBGPU_LAYERS_RESULT] = result;
  });
