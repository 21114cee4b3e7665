import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inspectSafetensorsFile } from '@convkit/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, convkit, expectBuiltCli, serveUrl } from './__fixtures__/built-cli';
import { pngOf } from './__fixtures__/served-model';

let dir: string;
let runDir: string;
beforeAll(async () => {
  expectBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'convkit-cli-'));
  runDir = join(dir, 'run');
  await writeFile(join(dir, 'a.png'), pngOf(1));
  await writeFile(join(dir, 'b.png'), pngOf(2));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the built convkit CLI, end to end', () => {
  it('trains, resumes, predicts, evaluates, summarizes and exports', async () => {
    const common = [
      '--model',
      'lenet5',
      '--dataset',
      'synthetic',
      '--samples',
      '80',
      '--batch-size',
      '16',
    ];
    const train = await convkit(
      'train',
      ...common,
      '--epochs',
      '1',
      '--steps',
      '2',
      '--validation-samples',
      '16',
      '--test-samples',
      '16',
      '--augment',
      'crop-flip',
      '--optimizer',
      'sgd',
      '--schedule',
      'onecycle',
      '--backend',
      'wasm',
      '--run-dir',
      runDir,
      '--json',
    );
    expect(train.stderr).toContain('backend: wasm');
    expect(train.code).toBe(0);
    const first = JSON.parse(train.stdout);
    expect(first.history).toHaveLength(1);
    expect(first.test.samples).toBe(16);

    const resumed = await convkit(
      'train',
      ...common,
      '--epochs',
      '2',
      '--steps',
      '2',
      '--validation-samples',
      '16',
      '--test-samples',
      '16',
      '--augment',
      'crop-flip',
      '--optimizer',
      'sgd',
      '--schedule',
      'onecycle',
      '--backend',
      'wasm',
      '--run-dir',
      runDir,
      '--resume',
      join(runDir, 'checkpoint', 'last'),
      '--json',
    );
    expect(resumed.code).toBe(0);
    const second = JSON.parse(resumed.stdout);
    expect(second.history).toHaveLength(2);
    expect(second.history[0]).toEqual(first.history[0]);

    const predict = await convkit(
      'predict',
      runDir,
      join(dir, 'a.png'),
      join(dir, 'b.png'),
      '-k',
      '2',
      '--backend',
      'wasm',
      '--json',
    );
    expect(predict.code).toBe(0);
    const predictions = JSON.parse(predict.stdout);
    expect(predictions.results).toHaveLength(2);
    expect(predictions.results[0].predictions).toHaveLength(2);
    expect(predictions.results[0].predictions[0].label).toMatch(/^[a-z]+$/);
    const text = await convkit('predict', runDir, dir, '--backend', 'wasm');
    expect(text.stdout).toMatch(/a\.png: \w+ \d+\.\d%, /);

    const evaluate = await convkit(
      'evaluate',
      runDir,
      '--dataset',
      'synthetic',
      '--test-samples',
      '20',
      '--backend',
      'wasm',
      '--json',
    );
    expect(evaluate.code).toBe(0);
    expect(JSON.parse(evaluate.stdout)).toMatchObject({ samples: 20 });

    const summary = await convkit('summary', runDir, '--json');
    expect(summary.code).toBe(0);
    expect(JSON.parse(summary.stdout)).toMatchObject({
      model: 'lenet5',
      trainableParams: 61706 - 4 * 85,
    });
    const zoo = await convkit('summary', 'cifarResnet20');
    expect(zoo.stdout).toContain('layer3.2.conv2');

    const pytorch = join(dir, 'lenet.pt.safetensors');
    expect((await convkit('export', runDir, '--format', 'pytorch', '-o', pytorch)).code).toBe(0);
    const header = await inspectSafetensorsFile(pytorch);
    const conv = header.entries.find((t) => t.name === 'features.0.weight');
    expect(conv?.shape).toEqual([6, 1, 5, 5]); // OIHW
    expect(JSON.parse(header.metadata.convkit).classNames).toHaveLength(6);
    const native = join(dir, 'lenet.safetensors');
    expect((await convkit('export', runDir, '-o', native)).code).toBe(0);
    const nativeHeader = await inspectSafetensorsFile(native);
    expect(nativeHeader.entries.find((t) => t.name === 'features.0.weight')?.shape).toEqual([
      5, 5, 1, 6,
    ]); // HWIO
    const tfjsDir = join(dir, 'tfjs');
    expect((await convkit('export', runDir, '--format', 'tfjs', '-o', tfjsDir)).code).toBe(0);
    const modelJson = JSON.parse(await readFile(join(tfjsDir, 'model.json'), 'utf8'));
    expect(modelJson.weightsManifest[0].weights.length).toBeGreaterThan(5);
  }, 300_000);

  it("the built zoo keeps every class name its checkpoints' manifests refer to", async () => {
    // Plain Node on the built packages (esbuild renames self-referring classes unless keepNames).
    const script =
      "const z = await import('@convkit/zoo'); const bad = Object.entries(z.ZOO_MODULE_TYPES).filter(([k, v]) => k !== v.name).map(([k, v]) => k + ' -> ' + v.name); console.log(JSON.stringify(bad));";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        cwd: dirname(CLI),
      },
    );
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('serve drains in-flight requests on SIGTERM and exits 0', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--model',
        `shapes=${runDir}`,
        '--port',
        '0',
        '--max-wait-ms',
        '1500',
        '--backend',
        'wasm',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const url = await serveUrl(child);
    const body = pngOf(3);
    // Six requests wait for their batch (up to 1.5 s); SIGTERM arrives while they are in flight.
    const inFlight = Array.from({ length: 6 }, () =>
      fetch(`${url}/v1/models/shapes/predict`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'image/png' },
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    // Structured logs: JSON lines with the request id.
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'draining' && l.signal === 'SIGTERM')).toBe(true);
    expect(
      lines.filter((l) => l.reqId && l.msg === 'request completed').length,
    ).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
