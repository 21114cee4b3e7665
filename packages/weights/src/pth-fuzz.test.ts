import { readFileSync } from 'node:fs';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { float32Bytes, stateDictPickle, tensorPickle, torchZip } from './__fixtures__/pickle';
import { readPth } from './index';

const ITERATIONS = 2000;
const SEED = 20261205;

/** mulberry32, as the safetensors fuzz test: a failure reproduces from its iteration number. */
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

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

/** An archive and its entries (to re-zip a mutated pickle with correct CRCs). */
interface Seed {
  bytes: Uint8Array;
  files: Record<string, Uint8Array>;
}

function corpus(): Seed[] {
  const crafted = torchZip(
    stateDictPickle([
      ['a', tensorPickle('0', 'FloatStorage', 6, 1, [2, 2], [1, 2])],
      ['b', tensorPickle('1', 'LongStorage', 2, 0, [2], [1])],
      ['c', tensorPickle('0', 'FloatStorage', 6, 0, [3, 2], [0, 1])],
    ]),
    { '0': float32Bytes([1, 2, 3, 4, 5, 6]), '1': new Uint8Array(16).fill(1, 0, 1) },
  );
  return [fixture('pth-dtypes.pt'), fixture('pth-checkpoint.pt'), crafted].map((bytes) => ({
    bytes,
    files: unzipSync(bytes),
  }));
}

/** Pickle opcodes worth writing into a pickle (structure, not just data). */
const OPCODES = [
  0x28, 0x29, 0x5d, 0x7d, 0x4e, 0x88, 0x89, 0x4a, 0x4b, 0x4d, 0x8a, 0x8b, 0x47, 0x58, 0x8c, 0x8d,
  0x42, 0x43, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x51, 0x52, 0x62, 0x81, 0x74, 0x85, 0x86,
  0x87, 0x6c, 0x64, 0x61, 0x65, 0x73, 0x75, 0x30, 0x31, 0x32, 0x2e, 0xff,
];

function mutateBytes(input: Uint8Array, random: Random, structural: boolean): Uint8Array {
  let bytes: Uint8Array = input.slice();
  switch (int(random, 5)) {
    case 0:
      for (let i = 0, flips = 1 + int(random, 4); i < flips && bytes.byteLength > 0; i++)
        bytes[int(random, bytes.byteLength)] ^= 1 << int(random, 8);
      break;
    case 1:
      bytes = bytes.slice(0, int(random, bytes.byteLength + 1));
      break;
    case 2: {
      const at = int(random, bytes.byteLength + 1);
      const count = 1 + int(random, 8);
      const insert = Array.from({ length: count }, () =>
        structural ? OPCODES[int(random, OPCODES.length)] : int(random, 256),
      );
      bytes =
        random() < 0.5
          ? Uint8Array.from([...bytes.subarray(0, at), ...insert, ...bytes.subarray(at)])
          : Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + count)]);
      break;
    }
    case 3:
      // Large values written over 4 or 8 bytes (lengths, counts, offsets).
      if (bytes.byteLength >= 8) {
        const at = int(random, bytes.byteLength - 7);
        const value = [0xff, 0x7f, 0x80, 0x00][int(random, 4)];
        bytes.fill(value, at, at + (random() < 0.5 ? 4 : 8));
      }
      break;
    default:
      if (bytes.byteLength > 0 && structural)
        bytes[int(random, bytes.byteLength)] = OPCODES[int(random, OPCODES.length)];
  }
  return bytes;
}

function mutate(seed: Seed, random: Random): Uint8Array {
  if (random() < 0.5) return mutateBytes(seed.bytes, random, false);
  // Mutate one entry (mostly data.pkl) and re-zip, so the CRCs pass and the unpickler is reached.
  const files = { ...seed.files };
  const names = Object.keys(files);
  const pickle = names.find((n) => n.endsWith('/data.pkl')) as string;
  const name = random() < 0.8 ? pickle : names[int(random, names.length)];
  files[name] = mutateBytes(files[name], random, name === pickle);
  return zipSync(files, { level: 0 });
}

function classify(error: unknown): string {
  expect(error).toBeInstanceOf(Error);
  const e = error as Error;
  expect(e.constructor, e.stack).toBe(Error);
  expect(e.message).toMatch(/^pth( \S+)?: \S/);
  return e.message;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('pth fuzz', () => {
  it(`${ITERATIONS} seeded mutations of archives and pickles: a valid read or a clear Error, never a crash, a hang or a large allocation`, () => {
    const random = generator(SEED);
    const seeds = corpus();
    const tally = { ok: 0, error: 0 };
    const reasons = new Map<string, number>();
    let slowest = 0;
    const before = tf.memory().numTensors;
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(seeds[i % seeds.length], random);
      const t0 = performance.now();
      try {
        const content = readPth(input, { file: 'fuzz' });
        let elements = 0;
        for (const tensor of Object.values(content.tensors)) {
          expect(['float32', 'int32', 'bool']).toContain(tensor.dtype);
          expect(tensor.dataSync().length).toBe(tensor.size);
          elements += tensor.size;
        }
        expect(elements).toBeLessThanOrEqual(4 * input.byteLength + 65536);
        tf.dispose(Object.values(content.tensors));
        tally.ok++;
      } catch (error) {
        if ((error as Error).name === 'AssertionError')
          throw new Error(`iteration ${i}: ${(error as Error).message}`);
        const message = classify(error);
        tally.error++;
        const reason = message
          .replace(/^pth fuzz: /, '')
          .replace(/"[^"]*"/g, 'S')
          .replace(/\d+/g, 'N')
          .slice(0, 60);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    const seconds = (performance.now() - start) / 1000;
    expect(tf.memory().numTensors).toBe(before);
    const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
    console.log(
      `pth fuzz: ${ITERATIONS} iterations in ${seconds.toFixed(2)} s (slowest ${slowest.toFixed(1)} ms): ${tally.ok} read, ${tally.error} refused\n` +
        top.map(([reason, count]) => `  ${count}x ${reason}`).join('\n'),
    );
    expect(slowest).toBeLessThan(2000);
    expect(tally.ok).toBeGreaterThan(ITERATIONS * 0.03);
    expect(tally.error).toBeGreaterThan(ITERATIONS * 0.5);
  });
});
