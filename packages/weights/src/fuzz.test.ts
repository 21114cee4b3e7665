import { readFileSync } from 'node:fs';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, readSafetensorsFromResponse } from './index';
import { encodeRawSafetensors } from './internal/encode';

const ITERATIONS = 4000;
const SEED = 20241124;

/** mulberry32: a small seeded generator, so a failure reproduces from its iteration number. */
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

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

function corpus(): Uint8Array[] {
  const mixed = encodeRawSafetensors(
    [
      { name: 'a', dtype: 'F16', shape: [2, 3], data: new Uint8Array(12).fill(0x3c) },
      { name: 'b', dtype: 'I64', shape: [2], data: new Uint8Array(16).fill(1, 0, 1) },
      { name: 'c', dtype: 'BOOL', shape: [5], data: new Uint8Array([1, 0, 1, 1, 0]) },
      { name: 'd', dtype: 'U8', shape: [0], data: new Uint8Array(0) },
    ],
    { k: 'v' },
  );
  return [fixture('tiny-cnn.safetensors'), fixture('dtypes.safetensors'), mixed];
}

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);

function headerLength(bytes: Uint8Array): number {
  return bytes.byteLength >= 8
    ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
    : 0;
}

/** Replace the header with `json` (re-serialized), keeping the data; optionally a wrong length. */
function withHeader(bytes: Uint8Array, json: unknown, random: Random): Uint8Array {
  const n = headerLength(bytes);
  const text = new TextEncoder().encode(JSON.stringify(json));
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  const length = random() < 0.85 ? text.byteLength : text.byteLength + int(random, 9) - 4;
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, length)), true);
  return out;
}

const WEIRD = [-1, 0, 1, 2.5, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e300, '3', null, [], {}, true];

function editJson(bytes: Uint8Array, random: Random): Uint8Array {
  const n = headerLength(bytes);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    any
  >;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = names[int(random, names.length)];
  const entry = header[name];
  const pick = <T>(values: readonly T[]) => values[int(random, values.length)];
  switch (int(random, 10)) {
    case 0:
      entry.dtype = pick([
        'F32',
        'F16',
        'BF16',
        'I64',
        'U8',
        'BOOL',
        'F64',
        'F8_E5M2',
        'X',
        7,
        'f32',
      ]);
      break;
    case 1:
      entry.shape[int(random, entry.shape.length + 1)] = pick(WEIRD);
      break;
    case 2:
      entry.shape = pick([[], [0], [1, 1, 1], [2 ** 26, 2 ** 26], 'x', null, [entry.shape]]);
      break;
    case 3:
      entry.data_offsets[int(random, 2)] += int(random, 17) - 8;
      break;
    case 4:
      entry.data_offsets[int(random, 3)] = pick(WEIRD);
      break;
    case 5:
      header[`${name}_copy`] = { ...entry, data_offsets: [...entry.data_offsets] };
      break;
    case 6:
      delete header[name];
      break;
    case 7:
      header.__metadata__ = pick([{ a: 1 }, 'x', null, [], { b: 'ok' }, { __proto__: 'p' }]);
      break;
    case 8:
      header[name] = pick([null, 1, 'x', [], {}, { dtype: 'F32' }]);
      break;
    default: {
      const other = header[names[int(random, names.length)]];
      [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
    }
  }
  return withHeader(bytes, header, random);
}

function mutate(original: Uint8Array, random: Random): Uint8Array {
  let bytes: Uint8Array = original.slice();
  const rounds = random() < 0.75 ? 1 : 2;
  for (let r = 0; r < rounds; r++) {
    const n = headerLength(bytes);
    switch (int(random, 7)) {
      case 0: {
        // Bit flips: half in the length and header, half in the data.
        const inHeader = random() < 0.5;
        const from = inHeader ? 0 : Math.min(bytes.byteLength, 8 + n);
        const span = (inHeader ? Math.min(bytes.byteLength, 8 + n) : bytes.byteLength) - from;
        for (let i = 0, flips = 1 + int(random, 4); i < flips && span > 0; i++)
          bytes[from + int(random, span)] ^= 1 << int(random, 8);
        break;
      }
      case 1:
        bytes = bytes.slice(0, int(random, bytes.byteLength + 1));
        break;
      case 2: {
        if (bytes.byteLength < 8) break;
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        const choices = [
          BigInt(n + int(random, 33) - 16),
          2n ** BigInt(int(random, 64)),
          BigInt(int(random, 2 ** 31)),
          0xffffffffffffffffn,
        ];
        const value = choices[int(random, choices.length)];
        view.setBigUint64(0, value < 0n ? 0n : value, true);
        break;
      }
      case 3:
      case 4:
        try {
          bytes = editJson(bytes, random);
        } catch {
          // The header is no longer JSON after an earlier round: flip instead.
          if (bytes.byteLength > 0) bytes[int(random, bytes.byteLength)] ^= 0x20;
        }
        break;
      case 5: {
        // Insert or delete a few bytes.
        const at = int(random, bytes.byteLength + 1);
        const count = 1 + int(random, 8);
        bytes =
          random() < 0.5
            ? Uint8Array.from([
                ...bytes.subarray(0, at),
                ...Array.from({ length: count }, () => int(random, 256)),
                ...bytes.subarray(at),
              ])
            : Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + count)]);
        break;
      }
      default: {
        // JSON-significant characters written into the header.
        const chars = '{}[],:"0-.e \\';
        for (let i = 0; i < 3 && n > 0 && 8 + n <= bytes.byteLength; i++)
          bytes[8 + int(random, n)] = chars.charCodeAt(int(random, chars.length));
      }
    }
  }
  return bytes;
}

type Outcome = { ok: true; names: string[] } | { ok: false; message: string };

function check(content: ReturnType<typeof readSafetensors>, input: Uint8Array): string[] {
  let bytes = 0;
  for (const [name, tensor] of Object.entries(content.tensors)) {
    expect(['float32', 'int32', 'bool']).toContain(tensor.dtype);
    expect(
      tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0),
      name,
    ).toBe(true);
    expect(tensor.dataSync().length).toBe(tensor.size);
    bytes += tensor.size * (tensor.dtype === 'bool' ? 1 : 4);
    expect(typeof content.dtypes[name]).toBe('string');
  }
  for (const value of Object.values(content.metadata)) expect(typeof value).toBe('string');
  // Decoding widens at most 1 byte -> 4 (U8 -> int32): never more than 4x the input.
  expect(bytes).toBeLessThanOrEqual(4 * input.byteLength);
  return Object.keys(content.tensors).sort();
}

function classify(error: unknown): string {
  expect(error).toBeInstanceOf(Error);
  const e = error as Error;
  // A RangeError / TypeError would mean a check was missed and something deeper failed.
  expect(e.constructor, e.stack).toBe(Error);
  expect(e.message).toMatch(/^safetensors( \S+)?: \S/);
  return e.message;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('safetensors fuzz', () => {
  it(`${ITERATIONS} seeded mutations: each a well-formed read or a clear Error, never a crash or a hang`, async () => {
    const random = generator(SEED);
    const inputs = corpus();
    const tally = { ok: 0, error: 0 };
    const reasons = new Map<string, number>();
    let slowest = 0;
    const start = performance.now();
    const tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < ITERATIONS; i++) {
      const input = mutate(inputs[i % inputs.length], random);
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        const content = readSafetensors(input, { file: 'fuzz' });
        outcome = { ok: true, names: check(content, input) };
        for (const t of Object.values(content.tensors)) t.dispose();
        tally.ok++;
      } catch (error) {
        if ((error as Error).name === 'AssertionError')
          throw new Error(`iteration ${i}: ${(error as Error).message}`);
        outcome = { ok: false, message: classify(error) };
        tally.error++;
        const reason = outcome.message
          .replace(/^safetensors fuzz: /, '')
          .replace(/tensor "[^"]*"/g, 'tensor')
          .replace(/\d+/g, 'N')
          .slice(0, 60);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      // Every 8th input also goes through the streaming reader: same verdict.
      if (i % 8 === 0) {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < input.byteLength; at += 97)
              controller.enqueue(input.slice(at, at + 97));
            controller.close();
          },
        });
        let streamed: Outcome;
        try {
          const content = await readSafetensorsFromResponse(new Response(body), { file: 'fuzz' });
          streamed = { ok: true, names: check(content, input) };
          for (const t of Object.values(content.tensors)) t.dispose();
        } catch (error) {
          streamed = { ok: false, message: classify(error) };
        }
        expect(
          streamed.ok,
          `iteration ${i}: ${JSON.stringify([outcome, streamed]).slice(0, 400)}`,
        ).toBe(outcome.ok);
        if (outcome.ok && streamed.ok) expect(streamed.names).toEqual(outcome.names);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(
      `fuzz: ${ITERATIONS} iterations in ${seconds.toFixed(2)} s (slowest ${slowest.toFixed(1)} ms): ${tally.ok} read, ${tally.error} refused\n` +
        top.map(([reason, count]) => `  ${count}x ${reason}`).join('\n'),
    );
    expect(slowest).toBeLessThan(2000);
    expect(tally.ok).toBeGreaterThan(ITERATIONS * 0.05);
    expect(tally.error).toBeGreaterThan(ITERATIONS * 0.5);
  });
});
