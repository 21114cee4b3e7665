import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { useBackend } from '@convkit/tooling/testing';
import { gradCam, saliency } from '@convkit/visualization';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngOf, withDeclaredSize, writeLenetCheckpoint } from '../__fixtures__/served-model';
import { decodeLimited, preprocess } from '../inference';
import { type LoadedModel, loadModelDir } from '../model-files';
import { buildServer } from './app';

let dir: string;
let model: LoadedModel;
let server: Awaited<ReturnType<typeof buildServer>>;
let url: string;
const quiet = new Writable({ write: (_c, _e, done) => done() });

beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-explain-'));
  await writeLenetCheckpoint(join(dir, 'fmnist'));
  model = await loadModelDir(join(dir, 'fmnist'));
  server = await buildServer({ models: [model], logger: { level: 'info', stream: quiet } });
  url = await server.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server?.drain();
  model?.model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const explain = (query: string, body: Uint8Array | string, type = 'image/png', accept?: string) =>
  fetch(`${url}/v1/models/fmnist/explain${query}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'content-type': type, ...(accept ? { accept } : {}) },
  });

/** The model's input for `pngOf(label)`, as a tensor. */
async function inputOf(label: number): Promise<tf.Tensor4D> {
  const image = await decodeLimited(pngOf(label), 1, 'test');
  return tf.tensor4d(preprocess(image, model), [1, 28, 28, 1]);
}

describe('POST /v1/models/{name}/explain', () => {
  it('answers Grad-CAM values equal to @convkit/visualization, and a PNG of them', async () => {
    const before = tf.memory().numTensors;
    const res = await explain('?target=4', pngOf(3), 'image/png', 'application/json');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ model: 'fmnist', method: 'gradcam', layer: 'features.4' });
    expect(body.target).toBe(4);
    expect(body.label).toBe('Coat');
    expect(body.heatmap).toHaveLength(28);
    expect(body.heatmap[0]).toHaveLength(28);
    const x = await inputOf(3);
    const cam = gradCam(model.model, x, { layer: 'features.4', target: 4 });
    const expected = await cam.heatmap.data();
    tf.dispose([x, cam.cam, cam.weights, cam.heatmap]);
    const got = body.heatmap.flat() as number[];
    const scale = Math.max(...expected);
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5 * scale + 1e-7);

    const png = await explain('', pngOf(3));
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const decoded = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect([decoded.width, decoded.height]).toEqual([224, 224]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saliency defaults to the predicted class and matches @convkit/visualization', async () => {
    const res = await explain('?method=saliency', pngOf(5), 'image/png', 'application/json');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.layer).toBeNull();
    expect(body.target).toBe(body.predicted);
    const x = await inputOf(5);
    const sal = saliency(model.model, x, { target: body.predicted });
    const expected = await sal.map.data();
    tf.dispose([x, sal.gradient, sal.map]);
    const got = body.heatmap.flat() as number[];
    const scale = Math.max(...expected);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5 * scale + 1e-7);
  });

  it('explains at any spatial layer given, and refuses bad input with a 4xx naming it', async () => {
    const before = tf.memory().numTensors;
    const at = await explain('?layer=features.1', pngOf(2), 'image/png', 'application/json');
    expect(at.status).toBe(200);
    expect((await at.json()).layer).toBe('features.1');

    const cases: [string, Uint8Array | string, string, number, RegExp][] = [
      [
        '?layer=features.99',
        pngOf(1),
        'image/png',
        400,
        /layer 'features\.99'.*valid layers: features\.0, features\.1/,
      ],
      ['?layer=classifier.0', pngOf(1), 'image/png', 400, /not a layer with a spatial output/],
      ['?target=10', pngOf(1), 'image/png', 400, /target class 10 is out of range.*\[0, 9\]/],
      ['?target=-1', pngOf(1), 'image/png', 400, /target/],
      ['?method=occlusion', pngOf(1), 'image/png', 400, /method/],
      ['?method=saliency&layer=features.0', pngOf(1), 'image/png', 400, /gradcam only/],
      ['', pngOf(1).slice(0, 40), 'image/png', 400, /body/],
      ['', withDeclaredSize(pngOf(1), 100_000, 100_000), 'image/png', 413, /100000x100000/],
      [
        '',
        '{"shape":[1,28,28,1],"data":[]}',
        'application/json',
        415,
        /content type 'application\/json'/,
      ],
      ['', 'hello', 'text/plain', 415, /unsupported content type/],
      ['', pngOf(1), 'multipart/form-data', 400, /malformed multipart body/],
    ];
    for (const [query, body, type, status, message] of cases) {
      const res = await explain(query, body, type, 'application/json');
      const json = await res.json();
      expect({ query, status: res.status }).toEqual({ query, status });
      expect(json.message).toMatch(message);
    }
    const unknown = await fetch(`${url}/v1/models/nope/explain`, {
      method: 'POST',
      body: new Uint8Array(pngOf(1)),
      headers: { 'content-type': 'image/png' },
    });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).message).toMatch(/unknown model 'nope'; serving fmnist/);
    // Still serving, and nothing left behind.
    expect((await explain('', pngOf(1))).status).toBe(200);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is in the OpenAPI document with its query schema', async () => {
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    const op = doc.paths['/v1/models/{name}/explain'].post;
    const names = op.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['method', 'target', 'layer', 'name']));
    expect(Object.keys(op.responses['200'].content)).toEqual(['image/png', 'application/json']);
  });
});
