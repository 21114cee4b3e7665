// Standing adversarial suite for checkpoints: tampered manifests (random JSON edits, byte flips,
// truncation) and tampered tensor files, with and without a model. Fixed seed, bounded count.
// Every load either succeeds or throws CheckpointError; a failed load leaves the model as it
// was and leaks no tensors.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, RandomSource } from '@convkit/backend';
import { Adam } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyCnn, weightsOf } from './__fixtures__/toy';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { sha256Hex } from './internal/sha256';

const ITERATIONS = 80;
const WEIRD: unknown[] = [
  null,
  -1,
  0,
  1.5,
  2 ** 53,
  '3',
  'constructor',
  '__proto__',
  'toString',
  [],
  {},
  true,
  { $tensor: '__proto__' },
  { type: 'hasOwnProperty' },
  [[[[]]]],
];

let root: string;
let source: string;
beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'convkit-ckpt-adv-'));
  manualSeed(11);
  const model = tinyCnn();
  const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
  tf.tidy(() =>
    optimizer.step(
      Object.fromEntries(model.trainableVariables().map((v) => [v.name, tf.onesLike(v)])),
    ),
  );
  source = join(root, 'source');
  await saveCheckpoint(source, { model, optimizer, epoch: 2, data: { state: () => ({ at: 3 }) } });
  optimizer.dispose();
  model.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every path [key, key, ...] to a value inside `json`. */
function paths(json: unknown, at: string[] = [], out: string[][] = []): string[][] {
  out.push(at);
  if (json !== null && typeof json === 'object' && at.length < 8) {
    for (const [k, v] of Object.entries(json)) paths(v, [...at, k], out);
  }
  return out;
}

describe('checkpoint adversarial suite', () => {
  it(`${ITERATIONS} tampered checkpoints: CheckpointError only, model untouched, no leak`, async () => {
    const random = new RandomSource(2026);
    const int = (n: number) => random.int(0, n);
    const manifestText = await readFile(join(source, 'checkpoint.json'), 'utf8');
    const manifest = JSON.parse(manifestText);
    const weightsFile = manifest.weights.file as string;
    const weightsBytes = new Uint8Array(await readFile(join(source, weightsFile)));
    const optimizerFile = manifest.optimizerTensors.file as string;
    const optimizerBytes = new Uint8Array(await readFile(join(source, optimizerFile)));
    manualSeed(5);
    const model = tinyCnn();
    const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
    const before = tf.memory().numTensors;
    const start = performance.now();
    const outcomes = { loaded: 0, refused: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const dir = join(root, `c${i}`);
      let text = manifestText;
      let weights = weightsBytes;
      const json = JSON.parse(manifestText);
      switch (int(4)) {
        case 0: {
          // Replace a value anywhere in the manifest.
          const all = paths(json).filter((p) => p.length > 0);
          const path = all[int(all.length)];
          let parent = json;
          for (const k of path.slice(0, -1)) parent = parent[k];
          parent[path.at(-1)!] = WEIRD[int(WEIRD.length)];
          text = JSON.stringify(json);
          break;
        }
        case 1: {
          const bytes = new TextEncoder().encode(manifestText);
          for (let k = 0; k < 1 + int(3); k++) bytes[int(bytes.length)] ^= 1 << int(8);
          text = new TextDecoder().decode(bytes);
          break;
        }
        case 2:
          text = manifestText.slice(0, int(manifestText.length));
          break;
        default: {
          // A weights file flipped or truncated, its hash and size recorded as if genuine: the
          // safetensors reader and the model's checks must catch it.
          weights = weightsBytes.slice(
            0,
            random.uniform(0, 1) < 0.5 ? int(weightsBytes.length) : weightsBytes.length,
          );
          for (let k = 0; k < 1 + int(4); k++)
            weights[int(Math.min(weights.length, 400))] ^= 1 << int(8);
          json.weights.sha256 = await sha256Hex(weights);
          json.weights.bytes = weights.length;
          text = JSON.stringify(json);
        }
      }
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'checkpoint.json'), text);
      await writeFile(join(dir, weightsFile), weights);
      await writeFile(join(dir, optimizerFile), optimizerBytes);
      for (const withModel of [true, false]) {
        const snapshot = weightsOf(model);
        try {
          const loaded = await loadCheckpoint(dir, withModel ? { model, optimizer } : {});
          if (!withModel) loaded.model.dispose?.();
          outcomes.loaded += 1;
        } catch (error) {
          expect(error, `iteration ${i}: ${String(error)}`).toBeInstanceOf(CheckpointError);
          if (withModel) expect(weightsOf(model), `iteration ${i}`).toEqual(snapshot);
          outcomes.refused += 1;
        }
      }
      expect(tf.memory().numTensors - before, `iteration ${i}`).toBeLessThanOrEqual(
        8, // the Adam state a successful load creates (2 per parameter), replaced on each load
      );
    }
    optimizer.dispose();
    model.dispose();
    const seconds = (performance.now() - start) / 1000;
    expect(seconds).toBeLessThan(40);
    console.log(
      `checkpoint adversarial: ${ITERATIONS} checkpoints x 2, ${outcomes.loaded} loaded, ${outcomes.refused} refused, ${seconds.toFixed(1)} s`,
    );
  }, 90_000);
});
