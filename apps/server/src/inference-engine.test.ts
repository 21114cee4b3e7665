import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pngOf,
  UNEXPORTABLE_MESSAGE,
  writeCifarResnetCheckpoint,
  writeLenetCheckpoint,
  writeUnexportableCheckpoint,
} from './__fixtures__/served-model';
import { decodeLimited, preprocess } from './inference';
import { type InferenceEngine, MISSING_RUNTIME_MESSAGE, prepareEngine } from './inference-engine';
import { type LoadedModel, loadModelDir } from './model-files';

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-engine-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Preprocessed inputs: PNGs of a few classes, decoded as the server does, and seeded noise. */
async function inputsFor(model: LoadedModel): Promise<Float32Array[]> {
  const [h, w, c] = model.inputSize;
  const images = [];
  for (const label of [0, 3, 7]) {
    const image = await decodeLimited(pngOf(label, h), c === 1 ? 1 : 3, `${label}.png`);
    images.push(preprocess(image, model));
  }
  const noise = tf.tidy(() => tf.randomNormal([2, h, w, c], 0, 1, 'float32', 11).dataSync());
  const per = h * w * c;
  images.push(noise.slice(0, per) as Float32Array, noise.slice(per) as Float32Array);
  return images;
}

function largestDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((row) => row.length)).toEqual(b.map((row) => row.length));
  return Math.max(...a.flatMap((row, i) => Array.from(row, (v, j) => Math.abs(v - b[i][j]))));
}

describe.each([
  ['LeNet-5', writeLenetCheckpoint],
  ['CIFAR ResNet-20 (BatchNorm with running statistics)', writeCifarResnetCheckpoint],
])('the onnxruntime engine on %s', (label, write) => {
  let model: LoadedModel;
  let engines: InferenceEngine[];
  beforeAll(async () => {
    const modelDir = join(dir, label.split(' ')[0]);
    await write(modelDir);
    model = await loadModelDir(modelDir);
    engines = [
      await (await prepareEngine({ engine: 'tfjs' }))(model),
      await (await prepareEngine({ engine: 'onnxruntime', threads: 1 }))(model),
    ];
  });
  afterAll(async () => {
    for (const engine of engines ?? []) await engine.dispose();
    model?.model.dispose();
  });

  it("gives the tfjs engine's probabilities within 1e-4 and leaves no tfjs tensor behind", async () => {
    const inputs = await inputsFor(model);
    const before = tf.memory().numTensors;
    const [tfjs, onnx] = await Promise.all(engines.map((e) => e.predictProbabilities(inputs)));
    expect(tf.memory().numTensors).toBe(before);
    expect(onnx).toHaveLength(inputs.length);
    for (const row of onnx) expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    expect(largestDifference(tfjs, onnx)).toBeLessThan(1e-4);
    // The inputs differ, so do their probabilities: the comparison is not between constants.
    expect(largestDifference([onnx[0]], [onnx[3]])).toBeGreaterThan(1e-4);
    // One image alone gets the same answer as in a batch (the batch axis is symbolic).
    const [single] = await engines[1].predictProbabilities([inputs[1]]);
    expect(largestDifference([single], [onnx[1]])).toBeLessThan(1e-6);
  });

  it('names itself and its threads', () => {
    expect(engines.map((e) => e.engine)).toEqual(['tfjs', 'onnxruntime']);
    expect(engines[1].description).toBe('onnxruntime (1 thread)');
  });
});

describe('choosing the onnxruntime engine', () => {
  it('uses every core unless told', async () => {
    const model = await loadModelDir(join(dir, 'LeNet-5'));
    const engine = await (await prepareEngine({ engine: 'onnxruntime' }))(model);
    const cores = availableParallelism();
    expect(engine.description).toBe(`onnxruntime (${cores} thread${cores === 1 ? '' : 's'})`);
    await engine.dispose();
    model.model.dispose();
  });

  it('says what is missing and how to install it when onnxruntime-node is not installed', async () => {
    // What Node's import throws for a package that is not installed.
    const notFound = Object.assign(
      new Error("Cannot find package 'onnxruntime-node' imported from /app/dist/cli.js"),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    const missing = prepareEngine({
      engine: 'onnxruntime',
      importRuntime: () => Promise.reject(notFound),
    });
    await expect(missing).rejects.toThrow(MISSING_RUNTIME_MESSAGE);
    expect(MISSING_RUNTIME_MESSAGE).toContain('`pnpm add onnxruntime-node`');
    expect(MISSING_RUNTIME_MESSAGE).toContain('--engine tfjs');
  });

  it('passes on another load failure, and refuses a module without onnxruntime exports', async () => {
    const broken = new Error('libonnxruntime.so.1: cannot open shared object file');
    await expect(
      prepareEngine({ engine: 'onnxruntime', importRuntime: () => Promise.reject(broken) }),
    ).rejects.toThrow(
      '--engine onnxruntime: loading onnxruntime-node failed: libonnxruntime.so.1: cannot open shared object file',
    );
    await expect(
      prepareEngine({ engine: 'onnxruntime', importRuntime: async () => ({ default: {} }) }),
    ).rejects.toThrow('onnxruntime-node has no InferenceSession / Tensor exports');
  });

  it('refuses a model with a module the exporter does not know, naming it', async () => {
    await writeUnexportableCheckpoint(join(dir, 'shuffled'));
    const model = await loadModelDir(join(dir, 'shuffled'));
    const make = await prepareEngine({ engine: 'onnxruntime', threads: 1 });
    await expect(make(model)).rejects.toThrow(UNEXPORTABLE_MESSAGE);
    model.model.dispose();
  });
});
