import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode, spawnUntil } from '@convkit/tooling/node-child';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelDirectory } from './index';

const here = dirname(fileURLToPath(import.meta.url));
let work: string;
let child: string;

beforeAll(async () => {
  await useBackend('cpu');
  work = await mkdtemp(join(tmpdir(), 'convkit-kill-modeldir-'));
  child = await bundleForNode(
    join(here, '__fixtures__', 'save-directory-loop.ts'),
    join(work, 'save-directory-loop.mjs'),
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Start the save loop; resolve once `saved <first>` is printed; return the output so far. */
function startSaving(dir: string) {
  return spawnUntil(child, [dir], /saved \d+/);
}

/** mulberry32, so the kill times reproduce. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a process killed while saving a model directory', () => {
  it('leaves the old or the new model, never a mix of shards (SIGKILL at random moments)', async () => {
    const dir = join(work, 'model');
    const random = generator(9);
    const rounds: { round: number; during: boolean; delayMs: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const { proc, output } = await startSaving(dir);
      const delayMs = Math.round(random() * 400);
      await new Promise((r) => setTimeout(r, delayMs));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const lines = output().trim().split('\n');
      const during = lines.at(-1)!.startsWith('begin');
      const before = tf.memory().numTensors;
      const { tensors } = await loadModelDirectory(dir);
      const values = new Set<number>();
      for (const t of Object.values(tensors)) for (const v of t.dataSync()) values.add(v);
      tf.dispose(Object.values(tensors));
      expect(tf.memory().numTensors).toBe(before);
      // One save's weights, whole: every value is the same round number.
      expect([...values]).toHaveLength(1);
      const [round] = values;
      const lastSaved = Number(
        lines
          .filter((l) => l.startsWith('saved'))
          .at(-1)!
          .split(' ')[1],
      );
      // Either the last completed save, or (killed after model.json's rename) the one in flight.
      expect([lastSaved, lastSaved + 1]).toContain(round);
      rounds.push({ round, during, delayMs });
    }
    // Shards of interrupted saves are removed by the next save: at most two saves' worth stay.
    const shards = (await readdir(dir)).filter((f) => f.endsWith('.bin'));
    expect(shards.length).toBeLessThanOrEqual(16);
    console.log(
      `model directory kill-during-save: ${rounds.filter((r) => r.during).length}/${rounds.length} kills landed inside a save; ` +
        rounds
          .map((r) => `${r.delayMs}ms -> round ${r.round}${r.during ? ' (mid-save)' : ''}`)
          .join(', '),
    );
  }, 60_000);
});
