// loadCheckpoint validates everything before it changes anything, and refuses tampered manifests
// with its own error (never a raw TypeError / RangeError), leaking no tensors.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globalRandom, manualSeed } from '@convkit/backend';
import { Adam, SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyCnn, weightsOf } from './__fixtures__/toy';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint';

let root: string;
let count = 0;
beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'convkit-train-load-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Save a checkpoint of a fresh tiny CNN (one Adam or SGD step taken), then edit its manifest. */
async function checkpoint(
  kind: 'adam' | 'sgd',
  edit?: (manifest: Record<string, any>) => void,
): Promise<string> {
  manualSeed(100 + count);
  const dir = join(root, `c${count++}`);
  const model = tinyCnn();
  const optimizer =
    kind === 'adam'
      ? new Adam(model.trainableVariables(), { lr: 0.01 })
      : new SGD(model.trainableVariables(), { lr: 0.1, momentum: 0.9 });
  tf.tidy(() =>
    optimizer.step(
      Object.fromEntries(model.trainableVariables().map((v) => [v.name, tf.onesLike(v)])),
    ),
  );
  await saveCheckpoint(dir, { model, optimizer, epoch: 3, data: { state: () => ({ at: 7 }) } });
  optimizer.dispose();
  model.dispose();
  if (edit) {
    const file = join(dir, 'checkpoint.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    edit(manifest);
    // Values nested too deep for JSON.stringify are spliced in as text.
    const text = JSON.stringify(manifest).replace(/"@deep:(\w+):(\d+)"/g, (_, kind, depth) =>
      deepText(kind, Number(depth)),
    );
    await writeFile(file, text);
  }
  return dir;
}

/** `deepText('array', n)`: `[[[...]]]`; `'sequential'`: a Sequential nested n deep around a ReLU. */
function deepText(kind: string, depth: number): string {
  if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const open = '{"type":"Sequential","config":{},"children":[';
  return `${open.repeat(depth)}{"type":"ReLU","config":{}}${']}'.repeat(depth)}`;
}

/** A model + Adam with state of their own, and a snapshot of everything a load could change. */
function target() {
  manualSeed(7);
  const model = tinyCnn();
  const optimizer = new Adam(model.trainableVariables(), { lr: 0.05 });
  tf.tidy(() =>
    optimizer.step(
      Object.fromEntries(model.trainableVariables().map((v) => [v.name, tf.onesLike(v)])),
    ),
  );
  const snapshot = () => ({
    weights: weightsOf(model),
    optimizer: JSON.stringify(optimizer.stateDict()),
    random: JSON.stringify(globalRandom().getState()),
  });
  const dispose = () => {
    optimizer.dispose();
    model.dispose();
  };
  return { model, optimizer, snapshot, dispose };
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as Error).message).toMatch(pattern);
}

describe('loadCheckpoint changes nothing unless everything is valid', () => {
  it.each([
    [
      'an SGD checkpoint into Adam',
      'sgd',
      undefined,
      /holds "SGD" optimizer state, which cannot be loaded into Adam/,
    ],
    [
      'a checkpoint without optimizer state',
      'adam',
      (m: Record<string, any>) => {
        m.optimizer = null;
      },
      /holds no optimizer state/,
    ],
    [
      'a bad random state',
      'adam',
      (m: Record<string, any>) => {
        m.random.global = { algorithm: 'mt19937', state: [1, 2] };
      },
      /random state/,
    ],
    [
      'random state integers out of range',
      'adam',
      (m: Record<string, any>) => {
        m.random.global.state = [1, 2, 3, -4.5];
      },
      /random state/,
    ],
    [
      'an optimizer state of the wrong shape',
      'adam',
      (m: Record<string, any>) => {
        m.optimizer.paramGroups[0].params.pop();
      },
      /optimizer/,
    ],
  ] as const)(
    '%s: the model, optimizer and random stream are untouched',
    async (_, kind, edit, pattern) => {
      const dir = await checkpoint(kind, edit);
      const t = target();
      const before = t.snapshot();
      const tensors = tf.memory().numTensors;
      await refused(loadCheckpoint(dir, { model: t.model, optimizer: t.optimizer }), pattern);
      expect(t.snapshot()).toEqual(before);
      expect(tf.memory().numTensors).toBe(tensors);
      t.dispose();
    },
  );

  it('a data loader that refuses its state: the model and optimizer are untouched', async () => {
    const dir = await checkpoint('adam');
    const t = target();
    const before = t.snapshot();
    const tensors = tf.memory().numTensors;
    const data = {
      loadState() {
        throw new Error('ToyLoader: bad state');
      },
    };
    await expect(
      loadCheckpoint(dir, { model: t.model, optimizer: t.optimizer, data }),
    ).rejects.toThrow(/bad state/);
    expect(t.snapshot()).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    t.dispose();
  });

  it('a failed load without a model leaks none of the rebuilt model', async () => {
    const dir = await checkpoint('adam', (m) => {
      m.random.global = 'nope';
    });
    const tensors = tf.memory().numTensors;
    await refused(loadCheckpoint(dir), /random state/);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('a good checkpoint still loads, with or without a model', async () => {
    const dir = await checkpoint('adam');
    const t = target();
    const loaded = await loadCheckpoint(dir, { model: t.model, optimizer: t.optimizer });
    expect(loaded.epoch).toBe(3);
    const rebuilt = await loadCheckpoint(dir);
    expect(weightsOf(rebuilt.model)).toEqual(weightsOf(t.model));
    rebuilt.model.dispose?.();
    t.dispose();
  });
});

describe('tampered checkpoint manifests give CheckpointError, never TypeError / RangeError', () => {
  it.each([
    ['architecture.type constructor', (m: any) => (m.architecture.type = 'constructor')],
    ['architecture.type toString', (m: any) => (m.architecture.type = 'toString')],
    ['architecture.type __proto__', (m: any) => (m.architecture.type = '__proto__')],
    [
      'a child type hasOwnProperty',
      (m: any) => (m.architecture.children[1].type = 'hasOwnProperty'),
    ],
    ['architecture a string', (m: any) => (m.architecture = 'Sequential')],
    ['children not an array', (m: any) => (m.architecture.children = { length: 1e9 })],
    [
      'a layer config that its constructor refuses',
      (m: any) => (m.architecture.children[4].config = { inFeatures: 64, outFeatures: -1 }),
    ],
    ['a Sequential nested 20,000 deep', (m: any) => (m.architecture = '@deep:sequential:20000')],
    [
      '$tensor __proto__',
      (m: any) => (m.optimizer.state['0'].tensors.m = { $tensor: '__proto__' }),
    ],
    [
      '$tensor constructor',
      (m: any) => (m.optimizer.state['0'].tensors.m = { $tensor: 'constructor' }),
    ],
    ['$tensor a number', (m: any) => (m.optimizer.state['0'].tensors.m = { $tensor: 5 })],
    [
      'optimizer state nested 20,000 deep',
      (m: any) => (m.optimizer.state['0'].x = '@deep:array:20000'),
    ],
    ['format nested deep', (m: any) => (m.format = '@deep:array:20000')],
    ['version a deep array', (m: any) => (m.version = '@deep:array:20000')],
    ['callbacks a string', (m: any) => (m.callbacks = 'x')],
    [
      'callbacks.__proto__',
      (m: any) => (m.callbacks = JSON.parse('{"__proto__": {"EarlyStopping": 1}}')),
    ],
    ['history nested deep', (m: any) => (m.history = ['@deep:array:20000'])],
    ['weights.bytes a string', (m: any) => (m.weights.bytes = '12')],
    ['weights.file ..', (m: any) => (m.weights.file = '..')],
    ['epoch a string', (m: any) => (m.epoch = '3')],
  ])('%s', async (_, edit) => {
    const dir = await checkpoint('adam', edit);
    const tensors = tf.memory().numTensors;
    const spare = tinyCnn();
    const spareOptimizer = new Adam(spare.trainableVariables());
    const spareTensors = tf.memory().numTensors;
    for (const withModel of [false, true]) {
      const t = withModel ? target() : undefined;
      const before = t?.snapshot();
      const error = await loadCheckpoint(dir, {
        model: t?.model,
        optimizer: t?.optimizer ?? spareOptimizer,
        callbacks: { EarlyStopping: { loadStateDict() {} } },
      }).then(
        (loaded) => {
          if (!withModel) loaded.model.dispose?.();
          return null;
        },
        (e: unknown) => e,
      );
      // A tampered field the load does not use (history) may load; what matters is no raw error.
      if (error !== null) expect(error, String(error)).toBeInstanceOf(CheckpointError);
      if (t) {
        if (error !== null) expect(t.snapshot()).toEqual(before);
        t.dispose();
      }
      if (error !== null) expect(tf.memory().numTensors).toBe(spareTensors);
    }
    spareOptimizer.dispose();
    spare.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
