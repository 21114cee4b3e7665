import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import autocannon from 'autocannon';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngOf, withDeclaredSize, writeLenetCheckpoint } from '../__fixtures__/served-model';
import { type LoadedModel, loadModelDir } from '../model-files';
import { buildServer } from './app';

let dir: string;
let model: LoadedModel;
const logLines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(...String(chunk).trim().split('\n'));
    if (logLines.length > 5000) logLines.splice(0, logLines.length - 5000);
    done();
  },
});

async function serve(options: Partial<Parameters<typeof buildServer>[0]> = {}) {
  const server = await buildServer({
    models: [model],
    logger: { level: 'info', stream: logStream },
    ...options,
  });
  const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...server, url: address };
}

beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-serve-'));
  await writeLenetCheckpoint(join(dir, 'fmnist'));
  model = await loadModelDir(join(dir, 'fmnist'));
});
afterAll(async () => {
  model?.model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('HTTP server over 127.0.0.1', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve({
      bodyLimit: 256 * 1024,
      imageLimits: { maxSide: 2048, maxPixels: 2048 * 2048 },
    });
  });
  afterAll(async () => {
    await server.drain();
  });
  const post = (path: string, body: Uint8Array | string | FormData, type?: string) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      body: body instanceof Uint8Array ? new Uint8Array(body) : body,
      headers: type ? { 'content-type': type } : {},
    });

  it('answers health, readiness, the model list, metrics and the OpenAPI document', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({
      status: 'ready',
      models: 1,
    });
    const list = await (await fetch(`${server.url}/v1/models`)).json();
    expect(list.models[0]).toMatchObject({
      name: 'fmnist',
      architecture: 'lenet5',
      inputSize: [28, 28, 1],
      mean: [0.286],
      std: [0.353],
      parameters: 61706,
      epoch: 1,
    });
    expect(list.models[0].classes).toContain('Ankle boot');
    const openapi = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(openapi.openapi).toBe('3.0.3');
    const predict = openapi.paths['/v1/models/{name}/predict'].post;
    expect(Object.keys(predict.requestBody.content)).toEqual(
      expect.arrayContaining([
        'application/json',
        'image/png',
        'image/jpeg',
        'multipart/form-data',
      ]),
    );
    expect(openapi.paths['/v1/models'].get).toBeDefined();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('convkit_http_requests_total');
    expect(metrics).toContain('convkit_tfjs_tensors');
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  it('predicts from a PNG body, a JPEG body, multipart files and a JSON tensor, the same for the same image', async () => {
    const png = pngOf(3);
    const byPng = await post('/v1/models/fmnist/predict?topK=3', png, 'image/png');
    expect(byPng.status).toBe(200);
    const requestId = byPng.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    const a = await byPng.json();
    expect(a.model).toBe('fmnist');
    expect(a.predictions).toHaveLength(1);
    expect(a.predictions[0]).toHaveLength(3);
    const total = a.predictions[0].reduce(
      (s: number, p: { probability: number }) => s + p.probability,
      0,
    );
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(1.0001);
    // The log line of that request carries its id.
    expect(logLines.some((l) => l.includes(`"reqId":"${requestId}"`))).toBe(true);

    const form = new FormData();
    form.append('image', new Blob([pngOf(3)], { type: 'image/png' }), 'a.png');
    form.append('image', new Blob([pngOf(5)], { type: 'image/png' }), 'b.png');
    const multi = await (await post('/v1/models/fmnist/predict?topK=3', form)).json();
    expect(multi.predictions).toHaveLength(2);
    expect(multi.predictions[0]).toEqual(a.predictions[0]);

    const rgba = Buffer.alloc(28 * 28 * 4, 255);
    const jpg = new Uint8Array(jpeg.encode({ data: rgba, width: 28, height: 28 }, 95).data);
    const byJpeg = await post('/v1/models/fmnist/predict', jpg, 'image/jpeg');
    expect(byJpeg.status).toBe(200);

    // The same image as a preprocessed JSON tensor.
    const { PNG } = await import('pngjs');
    const decoded = PNG.sync.read(Buffer.from(png));
    const data = Array.from({ length: 784 }, (_, i) => (decoded.data[i * 4] / 255 - 0.286) / 0.353);
    const byJson = await post(
      '/v1/models/fmnist/predict?topK=3',
      JSON.stringify({ shape: [1, 28, 28, 1], data }),
      'application/json',
    );
    expect(byJson.status).toBe(200);
    const json = await byJson.json();
    expect(json.predictions[0].map((p: { index: number }) => p.index)).toEqual(
      a.predictions[0].map((p: { index: number }) => p.index),
    );
    for (let i = 0; i < 3; i++) {
      expect(json.predictions[0][i].probability).toBeCloseTo(a.predictions[0][i].probability, 5);
    }
  });

  it('answers every bad input with a 4xx JSON error naming the problem, and keeps serving', async () => {
    const good = pngOf(1);
    const corrupt = new Uint8Array(good);
    for (let i = 40; i < corrupt.length - 20; i += 7) corrupt[i] ^= 0x5a;
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      [
        'truncated PNG',
        () => post('/v1/models/fmnist/predict', good.subarray(0, 60), 'image/png'),
        400,
        /cannot decode|not a readable/,
      ],
      [
        'corrupt PNG',
        () => post('/v1/models/fmnist/predict', corrupt, 'image/png'),
        400,
        /cannot decode/,
      ],
      [
        'not an image',
        () =>
          post(
            '/v1/models/fmnist/predict',
            new TextEncoder().encode('hello world, not a png'),
            'image/png',
          ),
        415,
        /not a readable PNG or JPEG|expected a PNG or JPEG/,
      ],
      [
        'empty image body',
        () => post('/v1/models/fmnist/predict', new Uint8Array(0), 'image/png'),
        400,
        /empty request body|PNG or JPEG/,
      ],
      [
        'text/plain',
        () => post('/v1/models/fmnist/predict', 'abc', 'text/plain'),
        415,
        /unsupported content type 'text\/plain'/,
      ],
      [
        '12000x12000 declared',
        () => post('/v1/models/fmnist/predict', withDeclaredSize(good, 12000, 12000), 'image/png'),
        413,
        /12000x12000; at most 2048 pixels a side/,
      ],
      [
        'malformed JSON',
        () => post('/v1/models/fmnist/predict', '{"shape": [1, 28', 'application/json'),
        400,
        /JSON/i,
      ],
      [
        'NaN literal',
        () =>
          post(
            '/v1/models/fmnist/predict',
            '{"shape":[1,28,28,1],"data":[NaN]}',
            'application/json',
          ),
        400,
        /JSON/i,
      ],
      [
        '"NaN" string',
        () =>
          post(
            '/v1/models/fmnist/predict',
            JSON.stringify({ shape: [1, 28, 28, 1], data: ['NaN'] }),
            'application/json',
          ),
        400,
        /body\/data\/0 must be number/,
      ],
      [
        '1e999 (Infinity)',
        () =>
          post(
            '/v1/models/fmnist/predict',
            `{"shape":[1,28,28,1],"data":[${Array(784).fill('1e999').join(',')}]}`,
            'application/json',
          ),
        400,
        /body\/data\/0 must be number|data\[0\] is Infinity; expected a finite number/,
      ],
      [
        'wrong tensor shape',
        () =>
          post(
            '/v1/models/fmnist/predict',
            JSON.stringify({ shape: [1, 32, 32, 3], data: [] }),
            'application/json',
          ),
        400,
        /shape \[1,32,32,3\] does not fit model 'fmnist': expected \[N, 28, 28, 1\]/,
      ],
      [
        'short tensor data',
        () =>
          post(
            '/v1/models/fmnist/predict',
            JSON.stringify({ shape: [2, 28, 28, 1], data: [1, 2] }),
            'application/json',
          ),
        400,
        /has 2 values; shape \[2,28,28,1\] needs 1568/,
      ],
      [
        'missing data field',
        () =>
          post(
            '/v1/models/fmnist/predict',
            JSON.stringify({ shape: [1, 28, 28, 1] }),
            'application/json',
          ),
        400,
        /must have required property 'data'/,
      ],
      [
        'oversized body',
        () => post('/v1/models/fmnist/predict', new Uint8Array(300 * 1024).fill(1), 'image/png'),
        413,
        /too large; the limit is 262144 bytes/,
      ],
      [
        'unknown model',
        () => post('/v1/models/nope/predict', good, 'image/png'),
        404,
        /unknown model 'nope'; serving fmnist/,
      ],
      [
        'bad topK',
        () => post('/v1/models/fmnist/predict?topK=0', good, 'image/png'),
        400,
        /topK must be >= 1/,
      ],
      [
        'unknown route',
        () => fetch(`${server.url}/v2/anything`),
        404,
        /no route GET \/v2\/anything/,
      ],
      [
        'multipart without files',
        () => {
          const f = new FormData();
          f.append('note', 'x');
          return post('/v1/models/fmnist/predict', f);
        },
        400,
        /holds no image file/,
      ],
      [
        'multipart without a boundary',
        () => post('/v1/models/fmnist/predict', good, 'multipart/form-data'),
        400,
        /malformed multipart body/,
      ],
      [
        '65 files in one multipart body',
        () => {
          const f = new FormData();
          for (let i = 0; i < 65; i++) f.append('image', new Blob([good]), `${i}.png`);
          return post('/v1/models/fmnist/predict', f);
        },
        413,
        /more than 64 images in one request/,
      ],
      [
        '5 text fields next to an image',
        () => {
          const f = new FormData();
          for (let i = 0; i < 5; i++) f.append(`note${i}`, 'x');
          f.append('image', new Blob([good]), 'a.png');
          return post('/v1/models/fmnist/predict', f);
        },
        413,
        /more than 4 text fields in one request/,
      ],
      [
        'a 2 MB text field next to an image',
        () => {
          const f = new FormData();
          f.append('note', 'x'.repeat(2 << 20));
          f.append('image', new Blob([good]), 'a.png');
          return post('/v1/models/fmnist/predict', f);
        },
        413,
        /text field 'note' is longer than 1024 bytes/,
      ],
      [
        'a text field named __proto__',
        () => {
          const f = new FormData();
          f.append('__proto__', 'x');
          f.append('image', new Blob([good]), 'a.png');
          return post('/v1/models/fmnist/predict', f);
        },
        400,
        /prototype property is not allowed as field name/,
      ],
      [
        'multipart cut short',
        () =>
          post(
            '/v1/models/fmnist/predict',
            '--b\r\ncontent-disposition: form-data; name="f"; filename="x.png"\r\n\r\nabc',
            'multipart/form-data; boundary=b',
          ),
        400,
        /malformed multipart body/,
      ],
    ];
    const before = tf.memory().numTensors;
    for (const [name, send, status, message] of cases) {
      const response = await send();
      expect(response.status, name).toBe(status);
      expect(response.headers.get('content-type'), name).toMatch(/application\/json/);
      const body = await response.json();
      expect(body.statusCode, name).toBe(status);
      expect(body.message, name).toMatch(message);
      expect(body.requestId, name).toBeTruthy();
    }
    expect(tf.memory().numTensors).toBe(before);
    const after = await post('/v1/models/fmnist/predict', good, 'image/png');
    expect(after.status).toBe(200);
    // Up to 4 text fields are let through (and ignored).
    const withFields = new FormData();
    for (let i = 0; i < 4; i++) withFields.append(`note${i}`, 'x');
    withFields.append('image', new Blob([good]), 'a.png');
    expect((await post('/v1/models/fmnist/predict', withFields)).status).toBe(200);
  });

  it('holds under a bounded autocannon run: 32 connections, zero errors, micro-batches, flat tensors and RSS', async () => {
    const body = pngOf(4);
    const run = (duration: number) =>
      autocannon({
        url: `${server.url}/v1/models/fmnist/predict?topK=1`,
        method: 'POST',
        connections: 32,
        duration,
        headers: { 'content-type': 'image/png' },
        body: Buffer.from(body),
      });
    await run(1); // warm-up: backend kernels, pools, JIT
    const tensors = tf.memory().numTensors;
    const rss = process.memoryUsage().rss;
    const result = await run(3);
    const rssGrowth = process.memoryUsage().rss - rss;
    console.log(
      `autocannon 32 connections 3 s: ${result.requests.average} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests, errors ${result.errors}, non-2xx ${result.non2xx}, RSS growth ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(result.requests.total).toBeGreaterThan(50);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(rssGrowth).toBeLessThan(64 * 2 ** 20);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const batches = Number(
      /convkit_inference_batch_size_count\{model="fmnist"\} (\d+)/.exec(metrics)?.[1],
    );
    const images = Number(
      /convkit_inference_batch_size_sum\{model="fmnist"\} (\d+)/.exec(metrics)?.[1],
    );
    // Concurrent requests shared forward passes.
    expect(images / batches).toBeGreaterThan(2);
  }, 60_000);
});

describe('limits under pressure', () => {
  it('a full queue answers 503 with Retry-After; a request past its timeout answers 503', async () => {
    // The batch waits 3 s to fill, so all 12 requests meet a queue of 4.
    const server = await serve({ maxQueue: 4, maxBatch: 64, maxWaitMs: 3000 });
    try {
      const body = pngOf(2);
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${server.url}/v1/models/fmnist/predict`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'image/png' },
          }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBe(4);
      const refused = responses.filter((r) => r.status === 503);
      expect(refused.length).toBe(8);
      expect(refused[0].headers.get('retry-after')).toBe('1');
      expect((await refused[0].json()).message).toMatch(
        /inference queue is full \(4 of 4 images queued\)/,
      );
    } finally {
      await server.drain();
    }
    const slow = await serve({ timeoutMs: 20, maxWaitMs: 300, maxBatch: 64 });
    try {
      const response = await fetch(`${slow.url}/v1/models/fmnist/predict`, {
        method: 'POST',
        body: pngOf(2),
        headers: { 'content-type': 'image/png' },
      });
      expect(response.status).toBe(503);
      expect((await response.json()).message).toMatch(/timed out after 20 ms/);
    } finally {
      await slow.drain();
    }
  });
});
