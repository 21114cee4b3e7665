import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeModelJsonWeights,
  encodeModelJson,
  loadModelDirectory,
  loadModelJsonFromUrl,
  type ModelJson,
  saveModelDirectory,
  validateModelJson,
} from './index';

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'convkit-modeljson-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Record<string, tf.Tensor> {
  return {
    'conv1.weight': tf.tensor4d(
      Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => i / 7 - 3),
      [3, 3, 3, 4],
    ),
    'bn1.num_batches_tracked': tf.scalar(42, 'int32'),
    mask: tf.tensor1d([true, false, true], 'bool'),
    'fc.weight': tf.tensor2d(
      Float32Array.from({ length: 40 }, (_, i) => Math.cos(i)),
      [8, 5],
    ),
    'fc.bias': tf.tensor1d([0.5, -0.25, 1, 2, 3]),
  };
}

function expectSame(actual: Record<string, tf.Tensor>, expected: Record<string, tf.Tensor>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [name, t] of Object.entries(expected)) {
    expect(actual[name].dtype, name).toBe(t.dtype);
    expect(actual[name].shape, name).toEqual(t.shape);
    expect(Array.from(actual[name].dataSync()), name).toEqual(Array.from(t.dataSync()));
  }
}

const disposeAll = (...groups: Record<string, tf.Tensor>[]) => {
  for (const g of groups) for (const t of Object.values(g)) t.dispose();
};

describe('model.json + shards', () => {
  it('cuts the weights into shards of at most shardBytes, across tensor boundaries, and reads them back', () => {
    const tensors = sample();
    const { modelJson, shards } = encodeModelJson(tensors, {
      shardBytes: 100,
      convkit: { type: 'TinyCNN', config: {} },
    });
    const total = 108 * 4 + 4 + 3 + 40 * 4 + 5 * 4;
    expect(shards.map((s) => s.data.byteLength)).toEqual([
      ...Array(Math.floor(total / 100)).fill(100),
      total % 100,
    ]);
    expect(shards[0].path).toBe(`group1-shard1of${shards.length}.bin`);
    expect(modelJson.weightsManifest[0].weights.map((w) => [w.name, w.dtype])).toEqual([
      ['conv1.weight', 'float32'],
      ['bn1.num_batches_tracked', 'int32'],
      ['mask', 'bool'],
      ['fc.weight', 'float32'],
      ['fc.bias', 'float32'],
    ]);
    const read = decodeModelJsonWeights(modelJson, [shards.map((s) => s.data)]);
    expectSame(read, tensors);
    disposeAll(tensors, read);
  });

  it('matches tfjs-core io: tf.io.decodeWeights reads our shards, and we read tf.io.encodeWeights output', async () => {
    const tensors = sample();
    const { modelJson, shards } = encodeModelJson(tensors, { shardBytes: 64 });
    const joined = new Uint8Array(shards.reduce((n, s) => n + s.data.byteLength, 0));
    let offset = 0;
    for (const s of shards) {
      joined.set(s.data, offset);
      offset += s.data.byteLength;
    }
    const theirs = tf.io.decodeWeights(joined.buffer, modelJson.weightsManifest[0].weights);
    expectSame(theirs, tensors);
    const encoded = await tf.io.encodeWeights(tensors);
    const ours = decodeModelJsonWeights(
      {
        weightsManifest: [
          {
            paths: ['w.bin'],
            weights: encoded.specs as ModelJson['weightsManifest'][0]['weights'],
          },
        ],
      },
      [[new Uint8Array(encoded.data as ArrayBuffer)]],
    );
    expectSame(ours, tensors);
    disposeAll(tensors, theirs, ours);
  });

  it('dequantizes uint8 / uint16 / float16 weights written by tfjs-converter', () => {
    const modelJson: ModelJson = {
      weightsManifest: [
        {
          paths: ['q.bin'],
          weights: [
            {
              name: 'u8',
              shape: [3],
              dtype: 'float32',
              quantization: { dtype: 'uint8', scale: 0.5, min: -1 },
            },
            { name: 'f16', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
          ],
        },
      ],
    };
    const data = new Uint8Array([0, 2, 255, 0x00, 0x3c, 0x00, 0xc1]);
    const read = decodeModelJsonWeights(modelJson, [[data]]);
    expect(Array.from(read.u8.dataSync())).toEqual([-1, 0, 126.5]);
    expect(Array.from(read.f16.dataSync())).toEqual([1, -2.5]);
    disposeAll(read);
  });

  it('saves to a directory (atomic files, model.json last) and loads it back, from the directory or the file', async () => {
    const tensors = sample();
    const target = join(dir, 'tiny');
    const saved = await saveModelDirectory(target, tensors, {
      shardBytes: 256,
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential' },
      convkit: { type: 'TinyCNN', config: { classes: 5 } },
    });
    const files = readdirSync(target).sort();
    expect(files).toHaveLength(4);
    expect(files[3]).toBe('model.json');
    expect(files.slice(0, 3).map((f) => f.replace(/\.[0-9a-f]{16}\.bin$/, '.bin'))).toEqual([
      'group1-shard1of3.bin',
      'group1-shard2of3.bin',
      'group1-shard3of3.bin',
    ]);
    expect(saved.weightsManifest[0].paths).toEqual(files.slice(0, 3));
    expect(saved.weightsManifest[0].shardBytes).toEqual([256, 256, 107]);
    expect(saved.weightsManifest[0].shardSha256).toHaveLength(3);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'));
    expect(json).toEqual(saved);
    expect(json.convkit).toEqual({ type: 'TinyCNN', config: { classes: 5 } });
    expect(json.format).toBe('layers-model');
    for (const from of [target, join(target, 'model.json')]) {
      const { modelJson, tensors: read } = await loadModelDirectory(from);
      expect(modelJson.modelTopology).toEqual({ class_name: 'Sequential' });
      expectSame(read, tensors);
      disposeAll(read);
    }
    // A shard that does not match the manifest is refused before it is decoded.
    const [, second, third] = saved.weightsManifest[0].paths;
    writeFileSync(join(target, third), new Uint8Array(3));
    await expect(loadModelDirectory(target)).rejects.toThrow(
      `shard "${third}" has 3 bytes, the manifest records 107 (truncated)`,
    );
    // So is a shard of the right size with other bytes (another save's, or corrupted).
    writeFileSync(join(target, third), new Uint8Array(107));
    await expect(loadModelDirectory(target)).rejects.toThrow(
      new RegExp(`shard "${third}" SHA-256 mismatch: the manifest records [0-9a-f]{64}`),
    );
    // Without the integrity record (a tfjs-converter model.json), the group total is still checked.
    const bare = {
      ...saved,
      weightsManifest: [
        { paths: saved.weightsManifest[0].paths, weights: saved.weightsManifest[0].weights },
      ],
    };
    writeFileSync(join(target, 'model.json'), JSON.stringify(bare));
    writeFileSync(join(target, third), new Uint8Array(3));
    await expect(loadModelDirectory(target)).rejects.toThrow(
      `weightsManifest[0] weights need 619 bytes, shards ${saved.weightsManifest[0].paths.join(', ')} hold 515`,
    );
    expect(second).toBeDefined();
    expect(statSync(join(target, 'model.json')).size).toBeGreaterThan(0);
    disposeAll(tensors);
  });

  it('loads from URLs with fetch, resolving shard paths against the model.json URL', async () => {
    const tensors = sample();
    const { modelJson, shards } = encodeModelJson(tensors, { shardBytes: 200 });
    const served = new Map<string, BodyInit>([
      ['https://example.test/models/tiny/model.json', JSON.stringify(modelJson)],
    ]);
    for (const s of shards)
      served.set(`https://example.test/models/tiny/${s.path}`, s.data as Uint8Array<ArrayBuffer>);
    const requested: string[] = [];
    const fakeFetch = (async (url: string) => {
      requested.push(url);
      const body = served.get(url);
      return body === undefined
        ? new Response('missing', { status: 404, statusText: 'Not Found' })
        : new Response(body);
    }) as typeof fetch;
    const { tensors: read } = await loadModelJsonFromUrl(
      'https://example.test/models/tiny/model.json',
      { fetch: fakeFetch },
    );
    expectSame(read, tensors);
    expect(requested).toHaveLength(1 + shards.length);
    served.delete(`https://example.test/models/tiny/${shards[1].path}`);
    await expect(
      loadModelJsonFromUrl('https://example.test/models/tiny/model.json', { fetch: fakeFetch }),
    ).rejects.toThrow(/shard "group1-shard2of4.bin": HTTP 404 Not Found/);
    disposeAll(tensors, read);
  });

  it('validates the manifest with messages naming the weight', () => {
    const group = (weights: unknown[], paths: unknown[] = ['a.bin']) => ({
      weightsManifest: [{ paths, weights }],
    });
    expect(() => validateModelJson({}, 'm.json')).toThrow(
      'model.json m.json: weightsManifest must be an array',
    );
    expect(() =>
      validateModelJson(group([{ name: 'w', shape: [2], dtype: 'float32' }], ['../secret.bin'])),
    ).toThrow(/shard path "..\/secret.bin" must be a relative path inside the model directory/);
    expect(() => validateModelJson(group([], ['https://evil.test/x.bin']))).toThrow(
      /must be a relative path/,
    );
    expect(() => validateModelJson(group([{ name: 'w', shape: [-2], dtype: 'float32' }]))).toThrow(
      /weight "w": shape must be non-negative integers, received \[-2\]/,
    );
    expect(() => validateModelJson(group([{ name: 'w', shape: [2], dtype: 'string' }]))).toThrow(
      /weight "w": dtype "string"/,
    );
    expect(() =>
      validateModelJson(
        group([
          { name: 'w', shape: [1], dtype: 'float32' },
          { name: 'w', shape: [1], dtype: 'float32' },
        ]),
      ),
    ).toThrow(/weight "w" appears twice/);
    const ok = group([{ name: 'w', shape: [2, 3], dtype: 'float32' }]);
    expect(validateModelJson(ok).groupBytes).toEqual([24]);
    expect(() => decodeModelJsonWeights(ok as ModelJson, [[new Uint8Array(20)]])).toThrow(
      /weights need 24 bytes, shards a.bin hold 20/,
    );
  });
});

describe('saveModelDirectory over an existing model', () => {
  it('writes new shards beside the old ones, then model.json, then removes the old shards', async () => {
    const target = join(dir, 'resave');
    const first = { w: tf.fill([64], 1), b: tf.fill([8], 1) };
    const second = { w: tf.fill([64], 2), b: tf.fill([8], 2) };
    const a = await saveModelDirectory(target, first, { shardBytes: 100 });
    const b = await saveModelDirectory(target, second, { shardBytes: 100 });
    // Same names, other content: no shard name is reused.
    for (const path of b.weightsManifest[0].paths)
      expect(a.weightsManifest[0].paths).not.toContain(path);
    expect(readdirSync(target).sort()).toEqual(
      [...b.weightsManifest[0].paths, 'model.json'].sort(),
    );
    // A leftover of an interrupted save (shard or temporary file) is removed by the next save;
    // files that are not the model's stay.
    writeFileSync(join(target, 'group1-shard9of9.0123456789abcdef.bin'), 'x');
    writeFileSync(join(target, '.model.json.123.abc.tmp'), 'x');
    writeFileSync(join(target, 'notes.txt'), 'mine');
    await saveModelDirectory(target, first, { shardBytes: 100 });
    expect(readdirSync(target).sort()).toEqual(
      [...a.weightsManifest[0].paths, 'model.json', 'notes.txt'].sort(),
    );
    const { tensors } = await loadModelDirectory(target);
    expect(Array.from(tensors.w.dataSync()).every((v) => v === 1)).toBe(true);
    disposeAll(first, second, tensors);
  });

  it('refuses a shard that is not a regular file', async () => {
    const target = join(dir, 'fifo');
    const tensors = { w: tf.zeros([0]) };
    const saved = await saveModelDirectory(target, tensors);
    disposeAll(tensors);
    const shard = join(target, saved.weightsManifest[0].paths[0]);
    rmSync(shard);
    mkdirSync(shard);
    await expect(loadModelDirectory(target)).rejects.toThrow(/is not a regular file/);
  });
});

describe('model.json from a hostile server', () => {
  const MODEL = 'https://example.test/models/tiny/model.json';

  /** A fetch over a map of URL -> body, recording every request and its init. */
  function server(served: Map<string, () => BodyInit | Response>) {
    const requests: { url: string; init?: RequestInit }[] = [];
    const fetchStub = (async (url: string, init?: RequestInit) => {
      requests.push({ url, init });
      const body = served.get(url);
      if (body === undefined) return new Response('missing', { status: 404 });
      const made = body();
      return made instanceof Response ? made : new Response(made);
    }) as typeof fetch;
    return { fetch: fetchStub, requests };
  }

  const manifestWith = (path: string) => ({
    weightsManifest: [{ paths: [path], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }],
  });

  it.each([
    '\n//other-host/x',
    '\t//other-host/x',
    ' //other-host/x',
    '%2e%2e/%2e%2e/x',
    '%2E%2E/x',
    '.%2e/x',
    '..\\..\\x',
    '\\\\other-host\\x',
    '/models/other/x.bin',
    '//other-host/x',
    'https://other-host/x',
    'HTTPS:x.bin',
    '..',
    'a/../../x',
    'a%2f..%2f..%2fx',
    'a\u0000.bin',
  ])('refuses shard path %j before any request leaves the model directory', async (path) => {
    const { fetch: fetchStub, requests } = server(
      new Map([[MODEL, () => JSON.stringify(manifestWith(path))]]),
    );
    const error = await loadModelJsonFromUrl(MODEL, {
      fetch: fetchStub,
      requestInit: { headers: { Authorization: 'Bearer secret' } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toContain(JSON.stringify(path));
    // Only model.json was requested: nothing went to another origin or outside the directory.
    expect(requests.map((r) => r.url)).toEqual([MODEL]);
  });

  it('resolves shards inside the directory (subfolders allowed) and sends requestInit only there', async () => {
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const { fetch: fetchStub, requests } = server(
      new Map<string, () => BodyInit>([
        [`${MODEL}?v=2`, () => JSON.stringify(manifestWith('./sub/w.bin'))],
        ['https://example.test/models/tiny/sub/w.bin', () => data.slice()],
      ]),
    );
    const { tensors } = await loadModelJsonFromUrl(`${MODEL}?v=2`, {
      fetch: fetchStub,
      requestInit: { headers: { Authorization: 'Bearer secret' } },
    });
    expect(Array.from(tensors.w.dataSync())).toEqual([1, 2]);
    expect(requests.map((r) => new URL(r.url).origin)).toEqual([
      'https://example.test',
      'https://example.test',
    ]);
    disposeAll(tensors);
  });

  /** A body of `total` bytes in 64 KiB chunks, made on demand; `pulled()` counts what was read. */
  function endless(total: number) {
    let pulled = 0;
    const chunk = 64 * 1024;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= total) {
            controller.close();
            return;
          }
          const n = Math.min(chunk, total - pulled);
          pulled += n;
          controller.enqueue(new Uint8Array(n).fill(0x20));
        },
      },
      { highWaterMark: 0 },
    );
    return { stream, pulled: () => pulled, chunk };
  }

  it('stops reading a shard once it passes the bytes the manifest declares', async () => {
    const body = endless(512 * 1024 * 1024);
    const { fetch: fetchStub } = server(
      new Map<string, () => BodyInit | Response>([
        [MODEL, () => JSON.stringify(manifestWith('w.bin'))],
        ['https://example.test/models/tiny/w.bin', () => new Response(body.stream)],
      ]),
    );
    await expect(loadModelJsonFromUrl(MODEL, { fetch: fetchStub })).rejects.toThrow(
      /shard "w.bin": the body is larger than the 8 bytes the manifest declares/,
    );
    expect(body.pulled()).toBeLessThanOrEqual(4 * body.chunk);
  });

  it('refuses a shard whose Content-Length exceeds the declared size without reading it', async () => {
    const body = endless(1024 * 1024);
    const { fetch: fetchStub } = server(
      new Map<string, () => BodyInit | Response>([
        [MODEL, () => JSON.stringify(manifestWith('w.bin'))],
        [
          'https://example.test/models/tiny/w.bin',
          () => new Response(body.stream, { headers: { 'content-length': '1048576' } }),
        ],
      ]),
    );
    await expect(loadModelJsonFromUrl(MODEL, { fetch: fetchStub })).rejects.toThrow(
      /shard "w.bin": Content-Length 1048576 is larger than the 8 bytes the manifest declares/,
    );
    expect(body.pulled()).toBeLessThanOrEqual(body.chunk);
  });

  it('caps the size of model.json itself while streaming it', async () => {
    const body = endless(256 * 1024 * 1024);
    const { fetch: fetchStub } = server(
      new Map<string, () => BodyInit | Response>([[MODEL, () => new Response(body.stream)]]),
    );
    await expect(
      loadModelJsonFromUrl(MODEL, { fetch: fetchStub, maxModelJsonBytes: 100_000 }),
    ).rejects.toThrow(/model.json .*: the body is larger than the 100000-byte limit/);
    expect(body.pulled()).toBeLessThanOrEqual(100_000 + 4 * body.chunk);
  });
});

describe('model.json quantization fields', () => {
  const withQuantization = (quantization: unknown) => ({
    weightsManifest: [
      {
        paths: ['q.bin'],
        weights: [{ name: 'q', shape: [3], dtype: 'float32', quantization }],
      },
    ],
  });

  it.each([
    [
      { dtype: 'uint8', scale: 'abc', min: 0 },
      /weight "q": quantization scale must be a finite number, received "abc"/,
    ],
    [
      { dtype: 'uint8', scale: 1, min: '5' },
      /weight "q": quantization min must be a finite number, received "5"/,
    ],
    [
      { dtype: 'uint16', scale: Number.POSITIVE_INFINITY, min: 0 },
      /quantization scale must be a finite number, received Infinity/,
    ],
    [
      { dtype: 'uint8', scale: 1, min: null },
      /quantization min must be a finite number, received null/,
    ],
    [
      { dtype: 'int4', scale: 1, min: 0 },
      /weight "q": quantization dtype must be uint8, uint16 or float16, received "int4"/,
    ],
    [[], /weight "q": quantization must be an object/],
  ])('refuses %j with a message naming the field', (quantization, message) => {
    expect(() => validateModelJson(withQuantization(quantization), 'm.json')).toThrow(message);
  });

  it('reads JSON 1e999 (Infinity) as a bad scale, not as infinite weights', () => {
    const json = JSON.parse(
      '{"weightsManifest":[{"paths":["q.bin"],"weights":[{"name":"q","shape":[3],"dtype":"float32","quantization":{"dtype":"uint8","scale":1e999,"min":0}}]}]}',
    );
    expect(() => decodeModelJsonWeights(json, [[new Uint8Array(3)]])).toThrow(
      /quantization scale must be a finite number, received Infinity/,
    );
  });
});
