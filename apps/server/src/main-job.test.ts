import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLeaks } from '@convkit/backend';
import { loadCheckpoint } from '@convkit/train';
import { ZOO_MODULE_TYPES } from '@convkit/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeFashionMnist } from './__fixtures__/fake-fashion-mnist';
import { runMainJob } from './main-job';
import { TrainingDivergedError } from './train-job';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-main-job-'));
  await writeFakeFashionMnist(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = {
  backend: 'wasm' as const,
  batchSize: 32,
  seed: 0,
  lr: 0.003,
  validationSamples: 64,
  testSamples: 100,
  progress: null,
};

describe('main job', () => {
  it("trains zoo's LeNet-5 end to end (loss falls), writes the run files, and leaks no tensors", async () => {
    // Warm up once so the backend's own one-time tensors are not counted as leaks.
    await runMainJob({
      ...options,
      dataPath: dir,
      epochs: 1,
      steps: 1,
      runDir: join(dir, 'warm-up'),
      gallery: false,
      log: () => {},
    });
    const lines: string[] = [];
    const runDir = join(dir, 'run');
    const { result, leakedTensors } = await measureLeaks(() =>
      runMainJob({
        ...options,
        dataPath: dir,
        epochs: 3,
        steps: 10,
        runDir,
        log: (l) => lines.push(l),
      }),
    );
    expect(leakedTensors).toBe(0);
    const log = lines.join('\n');
    expect(lines[0]).toContain('backend: wasm');
    expect(log).toContain('320 training, 64 validation, 100 test images');
    expect(log).toContain('model: lenet5 (61706 parameters)');
    expect(log).toMatch(/confusion matrix/);
    expect(log).toContain('Ankle boot');

    const [first, , last] = result.history;
    expect(last.loss).toBeLessThan(first.loss * 0.7);
    expect(result.test!.samples).toBe(100);
    expect(result.test!.accuracy).toBeGreaterThan(0.5);
    expect(result.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(100);

    const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
    expect(metrics.test.accuracy).toBe(result.test!.accuracy);
    expect(metrics.history).toHaveLength(3);
    const csv = (await readFile(join(runDir, 'metrics.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
    // The checkpoint rebuilds zoo's LeNet5 from its manifest alone.
    const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint', 'last'), {
      moduleTypes: ZOO_MODULE_TYPES,
    });
    expect(checkpoint.epoch).toBe(3);
    expect(checkpoint.model.constructor.name).toBe('LeNet5');
    expect(checkpoint.manifest.extra?.classNames).toHaveLength(10);
    checkpoint.model.dispose?.();

    // It looked inside the trained network, from the first 32 test images.
    const gallery = await readdir(join(runDir, 'gallery'));
    for (const file of [
      'conv1-filters.png',
      'reconstructions.png',
      'attributions.png',
      'training-curves.png',
      'confusion-matrix.png',
    ]) {
      expect(gallery, file).toContain(file);
    }
    expect(gallery.some((f) => f.startsWith('feature-maps-'))).toBe(true);
    expect(log).toMatch(/gallery: \d+ files in /);
    expect(log).toMatch(
      /reconstruction from each layer's features, correlation with the image: \S+ \(\w+\) -?\d\.\d{3}/,
    );
  });

  it('stops on a NaN loss, throws, writes no checkpoint of NaN weights, and writes metrics.json by rename', async () => {
    const runDir = join(dir, 'diverged');
    await rm(runDir, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(runDir, { recursive: true });
    // metrics.json is a symlink to another file: an atomic write (temp file + rename) replaces
    // the link; a plain writeFile would write through it into the target.
    const target = join(dir, 'not-metrics.txt');
    await writeFile(target, 'untouched');
    await symlink(target, join(runDir, 'metrics.json'));
    const error = await runMainJob({
      ...options,
      dataPath: dir,
      lr: 1e30,
      epochs: 3,
      steps: 4,
      runDir,
      log: () => {},
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error?.message).toMatch(/training diverged: .* became (NaN|-?Infinity)/);
    expect(existsSync(join(runDir, 'checkpoint', 'last'))).toBe(false);
    expect(existsSync(join(runDir, 'checkpoint', 'best'))).toBe(false);
    expect(await readFile(target, 'utf8')).toBe('untouched');
    expect((await lstat(join(runDir, 'metrics.json'))).isFile()).toBe(true);
    const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
    expect(metrics.stopReason).toBe('nan');
    expect(metrics.diverged.epoch).toBe(0);
  });
});
