// Standing adversarial suite for model.json: crafted and fuzzed manifests and shards, read from a
// directory and from a fetch stub. Fixed seed, bounded count. Every read either succeeds or
// throws the library's Error (message starting with "model.json"), never a TypeError /
// RangeError; never requests anything outside the model's directory on its origin; never leaks.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModelJson, loadModelDirectory, loadModelJsonFromUrl, type ModelJson } from './index';

const ITERATIONS = 300;
const SEED = 909;
const BASE = 'https://models.test/zoo/tiny/';

function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [
  -1,
  0,
  2.5,
  2 ** 32,
  2 ** 53,
  1e300,
  '3',
  null,
  [],
  {},
  true,
  'abc',
  [2 ** 31, 2 ** 31],
  '__proto__',
  'constructor',
  { dtype: 'uint8', scale: 'x' },
  { dtype: 'float16' },
];
const PATHS = [
  '\n//evil.test/x',
  '%2e%2e/x',
  '..\\x',
  '/abs',
  'https://evil.test/x',
  '..',
  'a/../../x',
  ' x.bin',
  'x.bin#frag',
  'sub/x.bin',
  '%zz',
  'a%2fb',
  '\u0085x',
  'C:\\x',
];

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'convkit-modeljson-adv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function base(): { json: ModelJson; shards: Map<string, Uint8Array> } {
  const tensors = {
    a: tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]),
    b: tf.tensor1d([7, 8], 'int32'),
    c: tf.tensor1d([true, false, true], 'bool'),
  };
  const { modelJson, shards } = encodeModelJson(tensors, { shardBytes: 16 });
  tf.dispose(Object.values(tensors));
  return { json: modelJson, shards: new Map(shards.map((s) => [s.path, s.data])) };
}

function mutate(random: () => number): { text: string; shards: Map<string, Uint8Array> } {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const { json, shards } = base();
  const group = json.weightsManifest[0] as unknown as Record<string, any>;
  const weight = group.weights[int(group.weights.length)] as Record<string, unknown>;
  switch (int(9)) {
    case 0:
      weight[pick(['name', 'shape', 'dtype', 'quantization'])] = pick(WEIRD);
      break;
    case 1:
      (weight.shape as unknown[])[int(3)] = pick(WEIRD);
      break;
    case 2:
      group.paths[int(group.paths.length)] = pick(PATHS);
      break;
    case 3:
      group[pick(['paths', 'weights'])] = pick(WEIRD);
      break;
    case 4:
      (json as Record<string, unknown>).weightsManifest = pick(WEIRD);
      break;
    case 5: {
      // A shard shortened, lengthened or flipped.
      const path = pick([...shards.keys()]);
      const data = shards.get(path)!;
      const r = int(3);
      shards.set(
        path,
        r === 0
          ? data.subarray(0, int(data.length))
          : r === 1
            ? Uint8Array.from([...data, 1, 2])
            : data.map((v, i) => (i === 0 ? v ^ 0xff : v)),
      );
      break;
    }
    case 6:
      weight.quantization = {
        dtype: pick(['uint8', 'uint16', 'float16', 'int4']),
        scale: pick(WEIRD),
        min: pick(WEIRD),
      };
      break;
    default: {
      const text = new TextEncoder().encode(JSON.stringify(json));
      if (random() < 0.5) {
        for (let k = 0; k < 1 + int(4); k++) text[int(text.length)] ^= 1 << int(8);
        return { text: new TextDecoder().decode(text), shards };
      }
      return { text: new TextDecoder().decode(text.subarray(0, int(text.length))), shards };
    }
  }
  return { text: JSON.stringify(json), shards };
}

function expectLibraryError(error: unknown, context: string): void {
  expect(error, context).toBeInstanceOf(Error);
  expect((error as Error).constructor, `${context}: ${String(error)}`).toBe(Error);
  expect((error as Error).message, context).toMatch(/^model\.json/);
}

describe('model.json adversarial suite', () => {
  it(`${ITERATIONS} crafted / fuzzed manifests and shards: library errors only, no leak, no request outside the directory`, async () => {
    const random = generator(SEED);
    const before = tf.memory().numTensors;
    let loaded = 0;
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const { text, shards } = mutate(random);
      const requested: string[] = [];
      const fetchStub = (async (url: string) => {
        requested.push(url);
        if (url === `${BASE}model.json`) return new Response(text);
        const data = shards.get(url.slice(BASE.length));
        return data ? new Response(data.slice()) : new Response('no', { status: 404 });
      }) as typeof fetch;
      for (const how of ['url', 'directory'] as const) {
        const context = `iteration ${i} (${how}): ${text.slice(0, 200)}`;
        let result: { tensors: Record<string, tf.Tensor> } | undefined;
        try {
          if (how === 'url') {
            result = await loadModelJsonFromUrl(`${BASE}model.json`, { fetch: fetchStub });
          } else {
            const target = join(dir, `m${i}`);
            mkdirSync(join(target, 'sub'), { recursive: true });
            writeFileSync(join(target, 'model.json'), text);
            for (const [path, data] of shards) writeFileSync(join(target, path), data);
            result = await loadModelDirectory(target);
          }
        } catch (error) {
          expectLibraryError(error, context);
        }
        if (result) {
          loaded += 1;
          tf.dispose(Object.values(result.tensors));
        }
      }
      for (const url of requested) expect(url.startsWith(BASE), url).toBe(true);
      expect(tf.memory().numTensors, `iteration ${i}`).toBe(before);
    }
    const seconds = (performance.now() - start) / 1000;
    expect(seconds).toBeLessThan(30);
    console.log(
      `model.json adversarial: ${ITERATIONS} inputs x 2 readers, ${loaded} loads succeeded, ${seconds.toFixed(1)} s`,
    );
  }, 60_000);
});
