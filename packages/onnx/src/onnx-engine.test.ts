import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conv2d, ReLU, Sequential } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtime } from './__fixtures__/parity';
import { exportOnnx } from './export-onnx';
import { createOnnxSession, loadOnnxRuntime, onnxRuntimePackage } from './onnx-engine';

describe('OnnxEngine', () => {
  const directory = mkdtempSync(join(tmpdir(), 'convkit-onnx-'));
  let bytes: Uint8Array;
  let model: Sequential;

  beforeAll(async () => {
    await useBackend('cpu');
    model = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 3 }),
      new ReLU(),
    );
    bytes = await exportOnnx(model, { inputShape: [1, 6, 7, 3] });
  });

  afterAll(() => {
    model.dispose();
    rmSync(directory, { recursive: true, force: true });
  });

  it('loads onnxruntime-node in Node by itself', async () => {
    expect(onnxRuntimePackage()).toBe('onnxruntime-node');
    const ort = await loadOnnxRuntime();
    expect(typeof ort.InferenceSession.create).toBe('function');
  });

  it('names a missing runtime package', async () => {
    // onnxruntime-web is an optional peer that this repository does not install.
    await expect(loadOnnxRuntime('onnxruntime-web')).rejects.toThrow(
      'needs the optional peer dependency onnxruntime-web, which is not installed; run `npm install onnxruntime-web`',
    );
  });

  it('runs from a file path, in the file layout (run) and in convkit layout (predict)', async () => {
    const path = join(directory, 'model.onnx');
    writeFileSync(path, bytes);
    const engine = await createOnnxSession(path, { runtime, threads: 1 });
    expect(engine.info.inputs[0].shape).toEqual(['N', 3, 6, 7]);
    const x = tf.randomUniform([3, 6, 7, 3], -1, 1, 'float32', 3);
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    const raw = await engine.run((await nchw.data()) as Float32Array, nchw.shape);
    expect(raw.dims).toEqual([3, 2, 4, 5]);
    const y = await engine.predict(x);
    expect(y.shape).toEqual([3, 4, 5, 2]);
    const expected = tf.tidy(() => model.forward(x));
    const fromRun = tf.tidy(() => tf.transpose(tf.tensor(raw.data, raw.dims), [0, 2, 3, 1]));
    for (const actual of [y, fromRun]) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]);
      expect(diff).toBeLessThan(1e-5);
    }
    tf.dispose([x, nchw, y, expected, fromRun]);
    await engine.dispose();
    await expect(engine.run(new Float32Array(126), [1, 3, 6, 7])).rejects.toThrow(
      'OnnxEngine.run: the session was disposed',
    );
  });

  it('refuses inputs of the wrong shape, bad bytes and bad options, naming them', async () => {
    const engine = await createOnnxSession(bytes, { runtime });
    await expect(engine.run(new Float32Array(10), [1, 3, 6, 7])).rejects.toThrow(
      'expected input input of shape [N,3,6,7], received 10 values of shape [1,3,6,7]',
    );
    await expect(engine.run(new Float32Array(3 * 7 * 6), [1, 3, 7, 6])).rejects.toThrow(
      'received 126 values of shape [1,3,7,6]',
    );
    await engine.dispose();
    await expect(createOnnxSession(new Uint8Array([1, 2, 3]), { runtime })).rejects.toThrow(
      'the bytes are not an ONNX ModelProto',
    );
    await expect(createOnnxSession(bytes, { runtime, threads: 0 })).rejects.toThrow(
      'expected threads to be a positive integer, received 0',
    );
    await expect(createOnnxSession(42 as unknown as Uint8Array, { runtime })).rejects.toThrow(
      "expected the model's bytes (Uint8Array) or a file path, received number",
    );
  });
});
