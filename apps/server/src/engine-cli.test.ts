// `--engine onnxruntime` of the built CLI: predict and serve give the tfjs engine's answers,
// bad choices and a missing onnxruntime-node stop the command at start with one clear line.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  convkit,
  convkitWith,
  expectBuiltCli,
  serveUrl,
  WITHOUT_ONNXRUNTIME,
} from './__fixtures__/built-cli';
import {
  pngOf,
  UNEXPORTABLE_MESSAGE,
  writeCifarResnetCheckpoint,
  writeLenetCheckpoint,
  writeUnexportableCheckpoint,
} from './__fixtures__/served-model';
import { decodeLimited, predictProbabilities, preprocess } from './inference';
import { loadModelDir } from './model-files';

let dir: string;
const LABELS = [0, 4, 9];

beforeAll(async () => {
  expectBuiltCli();
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-engine-cli-'));
  await writeLenetCheckpoint(join(dir, 'fmnist'));
  await writeCifarResnetCheckpoint(join(dir, 'c20'));
  for (const label of LABELS) await writeFile(join(dir, `${label}.png`), pngOf(label, 32));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stderr with one `convkit: ...` line and no stack trace. */
function expectOneLineError(stderr: string, message: string): void {
  expect(stderr.trim().split('\n')).toEqual([`convkit: ${message}`]);
  expect(stderr).not.toMatch(/^\s+at /m);
}

type PredictJson = {
  engine: string;
  results: { file: string; predictions: { index: number; probability: number }[] }[];
};

describe('convkit predict --engine', () => {
  it.each(['fmnist', 'c20'])(
    'onnxruntime prints the top-k of tfjs on %s, probabilities within 1e-4',
    async (name) => {
      const images = LABELS.map((l) => join(dir, `${l}.png`));
      const run = async (...flags: string[]) => {
        const result = await convkit('predict', join(dir, name), ...images, '-k', '3', ...flags);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        return JSON.parse(result.stdout) as PredictJson;
      };
      const tfjs = await run('--json', '--backend', 'wasm');
      const onnx = await run('--json', '--backend', 'wasm', '--engine', 'onnxruntime');
      expect([tfjs.engine, onnx.engine]).toEqual(['tfjs', 'onnxruntime']);
      for (const [i, result] of onnx.results.entries()) {
        const reference = tfjs.results[i].predictions;
        expect(result.file).toBe(tfjs.results[i].file);
        expect(result.predictions.map((p) => p.index)).toEqual(reference.map((p) => p.index));
        for (const [j, p] of result.predictions.entries())
          expect(Math.abs(p.probability - reference[j].probability)).toBeLessThan(1e-4);
      }
      // The text output too, line for line (probabilities rounded to 0.1%).
      const text = await convkit('predict', join(dir, name), ...images, '--engine', 'onnxruntime');
      const tfjsText = await convkit('predict', join(dir, name), ...images, '--backend', 'wasm');
      expect(text.stdout).toBe(tfjsText.stdout);
    },
    120_000,
  );

  it('refuses an unknown engine naming the accepted ones, and a thread count below 1', async () => {
    const bad = await convkit('predict', join(dir, 'fmnist'), dir, '--engine', 'onnx');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "error: option '--engine <name>' argument 'onnx' is invalid. Allowed choices are tfjs, onnxruntime.",
    );
    const zero = await convkit('predict', join(dir, 'fmnist'), dir, '--threads', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('expected an integer in [1, 1024], received 0.');
  });

  it('runs the tfjs engine on the wasm threads --threads asks for, with the same answers', async () => {
    const images = LABELS.map((l) => join(dir, `${l}.png`));
    const one = await convkit(
      'predict',
      join(dir, 'fmnist'),
      ...images,
      '--backend',
      'wasm',
      '--threads',
      '1',
    );
    const two = await convkit(
      'predict',
      join(dir, 'fmnist'),
      ...images,
      '--backend',
      'wasm',
      '--threads',
      '2',
    );
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(one.stderr).toContain('device: WebAssembly (SIMD, 1 thread)');
    expect(two.stderr).toContain('device: WebAssembly (SIMD, 2 threads)');
    expect(two.stdout).toBe(one.stdout);
  }, 120_000);

  it('stops at start when onnxruntime-node is missing, saying how to install it', async () => {
    for (const args of [
      ['predict', join(dir, 'fmnist'), dir, '--engine', 'onnxruntime'],
      ['serve', '--model', join(dir, 'fmnist'), '--port', '0', '--engine', 'onnxruntime'],
    ]) {
      const result = await convkitWith(WITHOUT_ONNXRUNTIME, ...args);
      expect(result.code, args[0]).toBe(1);
      expectOneLineError(
        result.stderr,
        '--engine onnxruntime needs the package onnxruntime-node, which is not installed; install it beside the convkit server with `pnpm add onnxruntime-node` (its CPU binary ships inside the package; pnpm skips its install script, which only fetches optional CUDA parts), or run with --engine tfjs',
      );
    }
    // The tfjs engine does not need it.
    const tfjs = await convkitWith(WITHOUT_ONNXRUNTIME, 'predict', join(dir, 'fmnist'), dir);
    expect(tfjs.code).toBe(0);
  }, 120_000);

  it('stops at start when the model has a module the exporter refuses', async () => {
    await writeUnexportableCheckpoint(join(dir, 'shuffled'));
    const args = ['predict', join(dir, 'shuffled'), dir, '--backend', 'wasm', '--json'];
    const result = await convkit(...args, '--engine', 'onnxruntime');
    expect(result.code).toBe(1);
    expectOneLineError(result.stderr, UNEXPORTABLE_MESSAGE);
    expect((await convkit(...args)).code).toBe(0);
  }, 120_000);
});

describe('convkit serve --engine onnxruntime over 127.0.0.1', () => {
  let child: ChildProcess;
  let url: string;
  let stderr = '';
  let expected: Float32Array[];

  beforeAll(async () => {
    const model = await loadModelDir(join(dir, 'c20'));
    const inputs = [];
    for (const l of LABELS)
      inputs.push(preprocess(await decodeLimited(pngOf(l, 32), 3, 'x'), model));
    expected = await predictProbabilities(model, inputs);
    model.model.dispose();
    child = spawn(
      process.execPath,
      [CLI, 'serve', '--model', `c20=${join(dir, 'c20')}`, '--port', '0', '--no-web'].concat([
        '--backend',
        'wasm',
        '--engine',
        'onnxruntime',
        '--threads',
        '1',
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    url = await serveUrl(child);
  }, 120_000);
  afterAll(async () => {
    const exited = new Promise((resolve) => child?.on('exit', resolve));
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  // A FormData body brings its own content type (with the boundary).
  const predict = (body: BodyInit, type?: string) =>
    fetch(`${url}/v1/models/c20/predict?topK=10`, {
      method: 'POST',
      body,
      headers: type ? { 'content-type': type } : {},
    });
  const tensors = async () =>
    Number(/^convkit_tfjs_tensors (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

  it('says which engine serves each model', async () => {
    expect(stderr).toContain('with c20 (cifarResnet20, onnxruntime (1 thread))');
    const list = await (await fetch(`${url}/v1/models`)).json();
    expect(list.models[0]).toMatchObject({ name: 'c20', engine: 'onnxruntime' });
  });

  it("answers the tfjs model's probabilities within 1e-4, before and after bad requests, with tensors flat", async () => {
    const check = async () => {
      const form = new FormData();
      for (const l of LABELS)
        form.append('image', new Blob([pngOf(l, 32)], { type: 'image/png' }), `${l}.png`);
      const response = await predict(form);
      expect(response.status).toBe(200);
      const { predictions } = await response.json();
      for (const [i, top] of predictions.entries()) {
        expect(top).toHaveLength(10);
        for (const p of top as { index: number; probability: number }[])
          expect(Math.abs(p.probability - expected[i][p.index])).toBeLessThan(1e-4);
      }
    };
    await check();
    const before = await tensors();
    const refusals = [
      await predict(new Uint8Array(pngOf(1, 32).slice(0, 40)), 'image/png'),
      await predict('not json', 'application/json'),
      await predict(JSON.stringify({ shape: [1, 28, 28, 1], data: [] }), 'application/json'),
      await predict('plain', 'text/plain'),
    ];
    expect(refusals.map((r) => r.status)).toEqual([400, 400, 400, 415]);
    await check();
    expect(await tensors()).toBe(before);
  }, 60_000);

  it('explains on tfjs while predicting on onnxruntime', async () => {
    const response = await fetch(`${url}/v1/models/c20/explain`, {
      method: 'POST',
      body: new Uint8Array(pngOf(4, 32)),
      headers: { 'content-type': 'image/png', accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.method).toBe('gradcam');
    expect(body.predicted).toBe(expected[1].indexOf(Math.max(...expected[1])));
    expect(Math.abs(body.probability - Math.max(...expected[1]))).toBeLessThan(1e-4);
  }, 60_000);
});
