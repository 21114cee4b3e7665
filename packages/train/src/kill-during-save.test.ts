import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RandomSource } from '@convkit/backend';
import type { Sequential } from '@convkit/layers';
import { SGD } from '@convkit/optimizers';
import { bundleForNode, spawnUntil } from '@convkit/tooling/node-child';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, verifyCheckpoint } from './checkpoint';

const here = dirname(fileURLToPath(import.meta.url));
let work: string;
let child: string;

beforeAll(async () => {
  await useBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'convkit-kill-'));
  child = await bundleForNode(
    join(here, '__fixtures__', 'save-loop.ts'),
    join(work, 'save-loop.mjs'),
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Start the save loop; resolve once `saved <first>` is printed; return the output so far. */
function startSaving(dir: string) {
  return spawnUntil(child, [dir], /saved \d+/);
}

describe('a process killed while saving', () => {
  it('leaves a loadable checkpoint (SIGKILL at random moments)', async () => {
    const dir = join(work, 'checkpoint');
    const random = new RandomSource(2024);
    const rounds: { epoch: number; during: boolean; delayMs: number }[] = [];
    for (let round = 0; round < 6; round++) {
      const { proc, output } = await startSaving(dir);
      const delayMs = Math.round(random.uniform(0, 600));
      await new Promise((r) => setTimeout(r, delayMs));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const lines = output().trim().split('\n');
      const during = lines.at(-1)!.startsWith('begin');

      // The checkpoint verifies (sizes, SHA-256, safetensors) and loads; its weights are those of
      // the epoch its manifest names, and the optimizer state loads too.
      const manifest = await verifyCheckpoint(dir);
      const loaded = await loadCheckpoint(dir);
      const model = loaded.model as Sequential;
      const optimizer = new SGD(model.trainableVariables(), { lr: 0.1, momentum: 0.9 });
      const again = await loadCheckpoint(dir, { model, optimizer });
      expect(again.epoch).toBe(manifest.epoch);
      for (const [key, t] of Object.entries(model.stateDict())) {
        const values = t.dataSync();
        expect(
          values.every((v) => v === manifest.epoch),
          key,
        ).toBe(true);
      }
      const savedLines = lines.filter((l) => l.startsWith('saved'));
      const lastSaved = Number(savedLines.at(-1)!.split(' ')[1]);
      // Either the last completed save, or (killed after the manifest's rename) the one in flight.
      expect([lastSaved, lastSaved + 1]).toContain(manifest.epoch);
      rounds.push({ epoch: manifest.epoch, during, delayMs });
      optimizer.dispose();
      model.dispose();
    }
    // Leftovers of interrupted saves are cleaned by the next save; at most one save's worth stays.
    const files = await readdir(dir);
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeLessThanOrEqual(4);
    console.log(
      `kill-during-save: ${rounds.filter((r) => r.during).length}/${rounds.length} kills landed inside a save; ` +
        rounds
          .map((r) => `${r.delayMs}ms -> epoch ${r.epoch}${r.during ? ' (mid-save)' : ''}`)
          .join(', '),
    );
  });
});
