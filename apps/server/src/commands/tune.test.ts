import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startRedis,
  type TestRedis,
} from '../../../../packages/tune/src/__fixtures__/redis-server';
import { CLI, convkit, expectBuiltCli } from '../__fixtures__/built-cli';

// A tiny study: LeNet-5 on 120 synthetic shapes (40 held out for validation), 2 batches of 16
// per epoch, 1 epoch, 2 trials.
const OBJECTIVE = [
  '--dataset', 'synthetic', '--samples', '120', '--validation-samples', '40',
  '--steps', '2', '--batch-size', '16', '--epochs', '1', '--backend', 'cpu', '--seed', '3',
]; // biome-ignore format: option pairs

let dir: string;
let space: string;
beforeAll(async () => {
  expectBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'convkit-tune-cli-'));
  space = join(dir, 'space.json');
  await writeFile(
    space,
    JSON.stringify({
      lr: { type: 'float', low: 1e-3, high: 3e-2, log: true },
      optimizer: { type: 'choice', values: ['adam', 'sgd'] },
      activation: { type: 'choice', values: ['relu', 'tanh'] },
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TuneJson {
  stop: string;
  best: { number: number; value: number; params: Record<string, unknown> };
  trials: { number: number; state: string; value: number; params: Record<string, unknown> }[];
  outDir: string;
  files: string[];
}

let inProcess: TuneJson;

describe('convkit tune', () => {
  it('runs a study in-process and writes the table, the best configuration and the plots', async () => {
    const out = join(dir, 'in-process');
    const r = await convkit(
      'tune',
      '--space',
      space,
      '--trials',
      '2',
      '--sampler',
      'random',
      '--out',
      out,
      '--json',
      ...OBJECTIVE,
    );
    expect(r.stderr).toContain("study 'study': 2 trial(s), random sampler");
    expect(r.code).toBe(0);
    inProcess = JSON.parse(r.stdout);
    expect(inProcess.stop).toBe('completed');
    expect(inProcess.trials.map((t) => t.state)).toEqual(['complete', 'complete']);
    for (const t of inProcess.trials) {
      expect(t.value).toBeGreaterThanOrEqual(0);
      expect(t.value).toBeLessThanOrEqual(1);
      expect(['adam', 'sgd']).toContain(t.params.optimizer);
    }
    expect(inProcess.best.value).toBe(Math.max(...inProcess.trials.map((t) => t.value)));
    const best = JSON.parse(await readFile(join(out, 'best.json'), 'utf8'));
    expect(best).toEqual({
      trial: inProcess.best.number,
      value: inProcess.best.value,
      params: inProcess.best.params,
    });
    const table = await readFile(join(out, 'results.md'), 'utf8');
    expect(table).toContain(
      '| trial | state | value | steps | seconds | lr | optimizer | activation |',
    );
    expect(table).toContain('2 trials (2 complete, 0 pruned, 0 failed).');
    for (const name of [
      'optimization-history.png',
      'parallel-coordinates.png',
      'parameter-importance.png',
    ]) {
      const png = PNG.sync.read(await readFile(join(out, name)));
      expect(png.width).toBe(900);
    }
  }, 120_000);

  it('runs the same seeded study on 2 worker threads', async () => {
    const r = await convkit(
      'tune', '--space', space, '--trials', '2', '--sampler', 'random', '--runner', 'threads',
      '--concurrency', '2', '--out', join(dir, 'threads'), '--json', ...OBJECTIVE,
    ); // biome-ignore format: option pairs
    expect(r.code).toBe(0);
    const study = JSON.parse(r.stdout) as TuneJson;
    expect(study.trials.map((t) => [t.state, t.params, t.value])).toEqual(
      inProcess.trials.map((t) => [t.state, t.params, t.value]),
    );
  }, 120_000);

  it('refuses a bad space file or option with a message naming it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ lr: { type: 'float', low: 1, high: 0 } }));
    const r = await convkit('tune', '--space', bad, ...OBJECTIVE);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^convkit: --space '.*bad\.json': .*lr/m);
    const typo = join(dir, 'typo.json');
    await writeFile(
      typo,
      JSON.stringify({ activaton: { type: 'choice', values: ['relu', 'tanh'] } }),
    );
    const misspelt = await convkit('tune', '--space', typo, ...OBJECTIVE);
    expect(misspelt.code).toBe(1);
    expect(misspelt.stderr).toMatch(
      /search-space parameter\(s\) 'activaton' are neither training parameters \(lr, optimizer, momentum, weightDecay, batchSize\) nor options of the zoo model 'lenet5' \(.*activation/,
    );
    const missing = await convkit('tune', '--space', join(dir, 'nope.json'));
    expect(missing.stderr).toMatch(/--space '.*nope\.json': cannot read it \(ENOENT\)/);
    const runner = await convkit('tune', '--space', space, '--runner', 'ray');
    expect(runner.code).toBe(2);
    expect(runner.stderr).toMatch(
      /argument 'ray' is invalid\. Allowed choices are in-process, threads, redis/,
    );
  });

  it('runs the same seeded study through Redis with a tune-worker process', async () => {
    const redis: TestRedis = await startRedis();
    let worker: ChildProcess | undefined;
    try {
      worker = spawn(process.execPath, [CLI, 'tune-worker', '--redis', redis.url, ...OBJECTIVE], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        worker!.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('ready on')) resolve();
        });
        worker!.once('exit', (code) => reject(new Error(`tune-worker exited (${code})`)));
      });
      const r = await convkit(
        'tune',
        '--space',
        space,
        '--trials',
        '2',
        '--sampler',
        'random',
        '--runner',
        'redis',
        '--redis',
        redis.url,
        '--name',
        'cli-redis',
        '--out',
        join(dir, 'redis'),
        '--json',
        ...OBJECTIVE,
      );
      expect(r.code).toBe(0);
      const study = JSON.parse(r.stdout) as TuneJson;
      // The same seed gives the same parameters and, trained the same way, the same accuracies.
      expect(study.trials.map((t) => [t.state, t.params, t.value])).toEqual(
        inProcess.trials.map((t) => [t.state, t.params, t.value]),
      );
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (worker && worker.exitCode === null) worker.kill('SIGKILL');
      await redis.stop();
    }
  }, 120_000);
});
