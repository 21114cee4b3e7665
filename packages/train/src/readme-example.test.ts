// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// biome-ignore-all format: the README example's long lines stay as the README writes them.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks what it claims.
// The wrapping, so that it runs in seconds: CONVKIT_DATA points at a small local copy of the
// real Fashion-MNIST (the first 1024 training and 512 test images of Debian's
// dataset-fashion-mnist, which bin/bootstrap.sh installs), and the working directory is a
// temporary one (the example writes runs/lenet/). The "fresh process" of the resume step is
// this same process, with the same objects.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import {
  encodeIdx,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SYSTEM_DIR,
  readIdxFile,
} from '@convkit/data';
import { afterAll, expect, it, vi } from 'vitest';

const SUBSET = { train: 1024, test: 512 };
const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'train-readme-'));
const dataDir = join(directory, 'data');
mkdirSync(dataDir);
for (const split of ['train', 'test'] as const) {
  for (const kind of ['images', 'labels'] as const) {
    const name = FASHION_MNIST_FILES[split][kind];
    const idx = await readIdxFile(join(FASHION_MNIST_SYSTEM_DIR, name));
    const dims = [SUBSET[split], ...idx.dims.slice(1)];
    const size = dims.reduce((a, b) => a * b, 1);
    const bytes = encodeIdx(dims, Uint8Array.from(idx.data.subarray(0, size)));
    writeFileSync(join(dataDir, name.replace(/\.gz$/, '')), bytes);
  }
}
vi.stubEnv('CONVKIT_DATA', dataDir);
process.chdir(directory);
const log = vi.spyOn(console, 'log').mockImplementation(() => {});
const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import { selectBackend } from '@convkit/backend';
import { DataLoader, loadFashionMnist, normalize } from '@convkit/data';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import { Adam, CosineAnnealingLR } from '@convkit/optimizers';
import { CSVLogger, EarlyStopping, evaluate, fit, ModelCheckpoint, ProgressBar } from '@convkit/train';

await selectBackend();
const transform = normalize({ mean: 0.286, std: 0.353 });
const train = new DataLoader(await loadFashionMnist({ split: 'train' }), { batchSize: 64, shuffle: true, seed: 0, transform });
const test = new DataLoader(await loadFashionMnist({ split: 'test' }), { batchSize: 500, transform });

const model = new Sequential(
  new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, padding: 2 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
  new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
  new Flatten(), new Linear({ inFeatures: 400, outFeatures: 120 }), new ReLU(),
  new Linear({ inFeatures: 120, outFeatures: 84 }), new ReLU(), new Linear({ inFeatures: 84, outFeatures: 10 }),
);
const optimizer = new Adam(model.trainableVariables(), { lr: 2e-3 });
const schedule = new CosineAnnealingLR(optimizer, { tMax: 8 * train.length });

const { history } = await fit(model, {
  data: train,
  optimizer,
  schedule,
  scheduleStep: 'batch',
  epochs: 8,
  loss: 'crossEntropy', // or any (prediction, target) => scalar, e.g. from @convkit/losses
  metrics: ['accuracy'],
  validationData: test,
  callbacks: [
    new ProgressBar(),
    new EarlyStopping({ monitor: 'val_accuracy', patience: 3, restoreBestWeights: true }),
    new ModelCheckpoint({ dir: 'runs/lenet' }), // runs/lenet/last and runs/lenet/best
    new CSVLogger('runs/lenet/metrics.csv'),
  ],
});
console.log(await evaluate(model, test, { metrics: ['accuracy'] })); // { loss, metrics: { accuracy }, ... }

// Later, in a fresh process: same objects rebuilt, then continue to epoch 12.
await fit(model, { data: train, optimizer, schedule, scheduleStep: 'batch', epochs: 12, resumeFrom: 'runs/lenet/last' });
// README example end

const printed = log.mock.calls.map((call) => call[0]);
log.mockRestore();
stderr.mockRestore();

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('trains LeNet-5 on the local Fashion-MNIST copy, evaluates it and writes the run', () => {
  expect(train.length).toBe(SUBSET.train / 64);
  expect(history.length).toBeGreaterThanOrEqual(4); // patience 3: at least 4 epochs
  expect(history.length).toBeLessThanOrEqual(8);
  expect(history.at(-1)!.loss).toBeLessThan(history[0].loss);
  const result = printed[0] as { loss: number; metrics: { accuracy: number }; samples: number };
  expect(result.samples).toBe(SUBSET.test);
  expect(result.metrics.accuracy).toBeGreaterThan(0.5); // chance is 0.1
  expect(Number.isFinite(result.loss)).toBe(true);
  for (const tag of ['last', 'best']) {
    const manifest = JSON.parse(readFileSync(`runs/lenet/${tag}/checkpoint.json`, 'utf8'));
    expect(manifest.epoch).toBeGreaterThan(0);
  }
  const csv = readFileSync('runs/lenet/metrics.csv', 'utf8').trim().split('\n');
  expect(csv[0]).toMatch(/^epoch,.*loss.*val_accuracy/);
  expect(csv).toHaveLength(history.length + 1);
});

it('resumes from runs/lenet/last and continues to epoch 12', () => {
  // Stepped per batch: 12 epochs of 16 batches in all, whatever epoch the first run stopped at.
  expect(schedule.lastEpoch).toBe(12 * train.length);
});
