import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convkit, expectBuiltCli } from './__fixtures__/built-cli';
import { pngOf, writeLenetCheckpoint } from './__fixtures__/served-model';
import { loadModelDir } from './model-files';

let dir: string;
beforeAll(async () => {
  expectBuiltCli();
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'convkit-transfer-'));
  await writeLenetCheckpoint(join(dir, 'source')); // LeNet-5, 10 Fashion-MNIST classes
  await writeFile(join(dir, 'a.png'), pngOf(1));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function weights(path: string) {
  const loaded = await loadModelDir(path);
  const state = loaded.model.stateDict();
  const values = Object.fromEntries(
    await Promise.all(Object.entries(state).map(async ([k, t]) => [k, await t.data()] as const)),
  );
  const shapes = Object.fromEntries(Object.entries(state).map(([k, t]) => [k, t.shape]));
  loaded.model.dispose();
  return { values, shapes, classNames: loaded.classNames };
}

it('convkit transfer puts a new head on a trained zoo model; predict loads the result', async () => {
  const common = ['--dataset', 'synthetic', '--samples', '120', '--batch-size', '20'];
  const frozen = await convkit(
    'transfer',
    join(dir, 'source'),
    ...common,
    '--head-epochs',
    '2',
    '--unfreeze-stages',
    '0',
    '--test-samples',
    '24',
    '--run-dir',
    join(dir, 'frozen'),
    '--backend',
    'wasm',
    '--json',
  );
  expect(frozen.code, frozen.stderr).toBe(0);
  const result = JSON.parse(frozen.stdout);
  expect(result.plan).toMatchObject({ strategy: 'last-fc', unfreezeStages: 0 });
  expect(result.history.head).toHaveLength(2);
  expect(result.history.fineTune).toHaveLength(0);
  expect(result.test.samples).toBe(24);
  expect(result.classNames).toHaveLength(6);

  const before = await weights(join(dir, 'source'));
  const after = await weights(join(dir, 'frozen'));
  expect(after.classNames).toEqual(result.classNames);
  // The encoder is frozen: its weights are the source's, bit for bit; the head is new (6 classes).
  for (const key of ['features.0.weight', 'features.3.bias', 'classifier.0.weight'])
    expect(Array.from(after.values[key])).toEqual(Array.from(before.values[key]));
  expect(after.shapes['classifier.4.weight']).toEqual([84, 6]);

  // Phase 2 with the top stage unfrozen changes the last conv but not the first.
  const tuned = await convkit(
    'transfer',
    join(dir, 'source'),
    ...common,
    '--head-epochs',
    '1',
    '--fine-tune-epochs',
    '1',
    '--unfreeze-stages',
    '1',
    '--run-dir',
    join(dir, 'tuned'),
    '--backend',
    'wasm',
    '--json',
  );
  expect(tuned.code, tuned.stderr).toBe(0);
  expect(JSON.parse(tuned.stdout).history.fineTune).toHaveLength(1);
  const t = await weights(join(dir, 'tuned'));
  expect(Array.from(t.values['features.0.weight'])).toEqual(
    Array.from(before.values['features.0.weight']),
  );
  expect(Array.from(t.values['features.3.weight'])).not.toEqual(
    Array.from(before.values['features.3.weight']),
  );

  const predict = await convkit('predict', join(dir, 'tuned'), join(dir, 'a.png'), '--json');
  expect(predict.code, predict.stderr).toBe(0);
  expect(result.classNames).toContain(JSON.parse(predict.stdout).results[0].predictions[0].label);

  const missing = await convkit('transfer', join(dir, 'source'), '--dataset', 'image-folder');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/--dataset image-folder needs --data <path>/);
}, 240_000);
