import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendName } from '@convkit/backend';
import { loadCheckpoint } from '@convkit/train';
import { ZOO_MODULE_TYPES } from '@convkit/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeFashionMnist } from './__fixtures__/fake-fashion-mnist';
import { runMainJob } from './main-job';

// Dawn (the npm `webgpu` package) on SwiftShader, Chromium's software Vulkan driver.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Why webgpu-in-Node cannot run here, or null when it can. */
async function webgpuUnavailable(): Promise<string | null> {
  try {
    await import('webgpu');
  } catch (error) {
    return `the 'webgpu' npm package cannot load here (${(error as Error).message})`;
  }
  if (!process.env.VK_ICD_FILENAMES && !existsSync(SWIFTSHADER_ICD)) {
    return `no Vulkan driver: ${SWIFTSHADER_ICD} is missing (apt-get install chromium) and VK_ICD_FILENAMES is not set`;
  }
  return null;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-main-backends-'));
  await writeFakeFashionMnist(dir, 120, 20);
  process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const unavailable = await webgpuUnavailable();

describe('the main job runs to the end on every backend here', () => {
  const backends: BackendName[] = ['cpu', 'wasm', 'webgpu'];
  for (const backend of backends) {
    const skip = backend === 'webgpu' ? unavailable : null;
    // SwiftShader is slow (most of the time is compiling shaders): tiny batches, two steps an
    // epoch, one epoch on webgpu and two elsewhere (the second resaves over the first).
    const epochs = backend === 'webgpu' ? 1 : 2;
    it.skipIf(skip !== null)(
      `${backend}${skip ? ` (skipped: ${skip})` : ''}: trains, checkpoints last/ and best/, evaluates, writes metrics`,
      async () => {
        const runDir = join(dir, backend);
        const lines: string[] = [];
        const result = await runMainJob({
          backend,
          epochs,
          steps: 2,
          batchSize: 8,
          seed: 0,
          validationSamples: 8,
          testSamples: 8,
          dataPath: dir,
          runDir,
          progress: null,
          // The gallery is checked once, in main-job.test.ts.
          gallery: false,
          log: (l) => lines.push(l),
        });
        expect(result.report.backend).toBe(backend);
        expect(result.stopReason).toBe('completed');
        expect(result.history).toHaveLength(epochs);
        expect(result.history.every((h) => Number.isFinite(h.loss))).toBe(true);
        expect(result.test!.samples).toBe(8);
        const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
        expect(metrics.backend).toBe(backend);
        expect(metrics.history).toHaveLength(epochs);
        for (const which of ['last', 'best']) {
          const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint', which), {
            moduleTypes: ZOO_MODULE_TYPES,
            restoreRandom: false,
          });
          if (which === 'last') expect(checkpoint.epoch).toBe(epochs);
          expect(checkpoint.manifest.optimizerTensors).not.toBeNull();
          checkpoint.model.dispose?.();
        }
      },
      300_000,
    );
  }
});
