import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLeaks, RandomSource } from '@convkit/backend';
import { encodeIdx, FASHION_MNIST_FILES } from '@convkit/data';
import { loadCheckpoint } from '@convkit/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMainJob } from './main-job';

/**
 * A hermetic stand-in for Fashion-MNIST (the real run is the README's `npm run main`): IDX files
 * of 28x28 noise images where class c has a bright band at rows 2c..2c+4, under the real names.
 */
async function writeFakeFashionMnist(dir: string): Promise<void> {
  const random = new RandomSource(3);
  const write = async (split: 'train' | 'test', n: number) => {
    const images = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const label = i % 10;
      labels[i] = label;
      for (let p = 0; p < 784; p++) {
        const row = Math.floor(p / 28);
        const band = row >= 2 * label + 3 && row < 2 * label + 7;
        images[i * 784 + p] = Math.min(255, Math.round(random.uniform(0, 90) + (band ? 150 : 0)));
      }
    }
    const files = FASHION_MNIST_FILES[split];
    await writeFile(join(dir, files.images.replace(/\.gz$/, '')), encodeIdx([n, 28, 28], images));
    await writeFile(join(dir, files.labels.replace(/\.gz$/, '')), encodeIdx([n], labels));
  };
  await write('train', 400);
  await write('test', 100);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-main-job-'));
  await writeFakeFashionMnist(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('main job', () => {
  it('trains LeNet-5 end to end (loss falls), writes the run files, and leaks no tensors', async () => {
    const options = {
      backend: 'wasm' as const,
      batchSize: 32,
      seed: 0,
      lr: 0.003,
      validationSamples: 64,
      testSamples: 100,
      dataPath: dir,
      progress: null,
    };
    // Warm up once so the backend's own one-time tensors are not counted as leaks.
    await runMainJob({
      ...options,
      epochs: 1,
      steps: 1,
      runDir: join(dir, 'warm-up'),
      log: () => {},
    });
    const lines: string[] = [];
    const runDir = join(dir, 'run');
    const { result, leakedTensors } = await measureLeaks(() =>
      runMainJob({ ...options, epochs: 3, steps: 10, runDir, log: (l) => lines.push(l) }),
    );
    expect(leakedTensors).toBe(0);
    const log = lines.join('\n');
    expect(lines[0]).toContain('backend: wasm');
    expect(log).toContain('320 training, 64 validation, 100 test images');
    expect(log).toMatch(/confusion matrix/);
    expect(log).toContain('Ankle boot');

    const [first, , last] = result.history;
    expect(last.loss).toBeLessThan(first.loss * 0.7);
    expect(result.test.samples).toBe(100);
    expect(result.test.accuracy).toBeGreaterThan(0.5);
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(100);

    const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
    expect(metrics.test.accuracy).toBe(result.test.accuracy);
    expect(metrics.history).toHaveLength(3);
    const csv = (await readFile(join(runDir, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
    const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint', 'last'));
    expect(checkpoint.epoch).toBe(3);
    expect(checkpoint.manifest.extra?.classNames).toHaveLength(10);
    checkpoint.model.dispose?.();
  });
});
