import { readFileSync } from 'node:fs';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import dtypesFixture from './__fixtures__/dtypes.json';
import tinyFixture from './__fixtures__/tiny-cnn.json';
import {
  inspectSafetensors,
  isNumBatchesTracked,
  readSafetensors,
  readSafetensorsFromResponse,
  writeSafetensors,
} from './index';
import { encodeRawSafetensors } from './internal/encode';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

interface Expected {
  dtype: string;
  shape: number[];
  bits?: number[];
  values?: number[];
}

function expectExact(tensor: tf.Tensor, expected: Expected, name: string): void {
  expect(tensor.shape, name).toEqual(expected.shape);
  const data = tensor.dataSync();
  if (expected.bits) {
    expect(tensor.dtype, name).toBe('float32');
    const bits = new Uint32Array(new Float32Array(data as Float32Array).buffer);
    expect(Array.from(bits), name).toEqual(expected.bits);
  } else {
    expect(tensor.dtype, name).toBe(expected.dtype === 'BOOL' ? 'bool' : 'int32');
    expect(Array.from(data as Int32Array), name).toEqual(expected.values);
  }
}

/** A header + data file built by hand, for malformed inputs. */
function rawFile(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  headerLength?: bigint,
): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === 'string' ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

const f32 = (n: number, begin = 0) => ({
  dtype: 'F32',
  shape: [n],
  data_offsets: [begin, begin + 4 * n],
});

function dispose(content: { tensors: Record<string, tf.Tensor> }): void {
  for (const t of Object.values(content.tensors)) t.dispose();
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('safetensors round trip', () => {
  it('writes and reads float32, int32, int64 (on request) and bool, bit-exactly, with metadata', () => {
    const tensors = {
      'conv.weight': tf.tensor4d(
        Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3),
        [2, 3, 2, 2],
      ),
      'bn.num_batches_tracked': tf.scalar(12345, 'int32'),
      labels: tf.tensor1d([-2147483648, 0, 2147483647], 'int32'),
      mask: tf.tensor2d(
        [
          [true, false],
          [false, true],
        ],
        [2, 2],
        'bool',
      ),
      special: tf.tensor1d([Number.NaN, Number.POSITIVE_INFINITY, -0, 1e-45]),
      empty: tf.zeros([0, 4]),
      __proto__: tf.scalar(1),
      '0': tf.tensor1d([3, 4]),
    };
    const bytes = writeSafetensors(
      tensors,
      { format: 'pt', note: 'ünïcode' },
      { int64: isNumBatchesTracked },
    );
    const content = readSafetensors(bytes);
    expect(content.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(content.dtypes['bn.num_batches_tracked']).toBe('I64');
    expect(content.dtypes.labels).toBe('I32');
    expect(content.dtypes.mask).toBe('BOOL');
    expect(Object.keys(content.tensors).sort()).toEqual(Object.keys(tensors).sort());
    expect(Object.getPrototypeOf(content.tensors)).toBe(Object.prototype);
    for (const [name, original] of Object.entries(tensors)) {
      const read = content.tensors[name];
      expect(read.dtype, name).toBe(original.dtype);
      expect(read.shape, name).toEqual(original.shape);
      const a = original.dataSync();
      const b = read.dataSync();
      expect(
        Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(
          Buffer.from(a.buffer, a.byteOffset, a.byteLength),
        ),
        name,
      ).toBe(true);
    }
    dispose(content);
    for (const t of Object.values(tensors)) t.dispose();
  });

  it('is deterministic, 8-byte aligned, and orders data by element size', () => {
    const make = () => ({
      b: tf.tensor1d([1, 2, 3]),
      a: tf.tensor1d([true], 'bool'),
      c: tf.tensor1d([5], 'int32'),
    });
    const x = make();
    const y = make();
    const one = writeSafetensors(x, undefined, { int64: ['c'] });
    const two = writeSafetensors({ c: y.c, a: y.a, b: y.b }, undefined, { int64: ['c'] });
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    const header = inspectSafetensors(one);
    expect(header.dataStart % 8).toBe(0);
    expect(header.entries.map((e) => [e.name, e.dtype, e.begin])).toEqual([
      ['c', 'I64', 0],
      ['b', 'F32', 8],
      ['a', 'BOOL', 20],
    ]);
    const text = new TextDecoder().decode(one.subarray(8, header.dataStart));
    expect(text).toMatch(/^\{"a":.*\}\s*$/);
    expect(text.endsWith(' ') || text.endsWith('}')).toBe(true);
    for (const t of [...Object.values(x), ...Object.values(y)]) t.dispose();
  });

  it('reads every dtype written by PyTorch bit-exactly (dtypes fixture)', () => {
    const content = readSafetensors(fixture('dtypes.safetensors'));
    expect(content.metadata).toEqual(dtypesFixture.metadata);
    for (const [name, expected] of Object.entries(
      dtypesFixture.tensors as Record<string, Expected>,
    )) {
      expect(content.dtypes[name], name).toBe(expected.dtype);
      expectExact(content.tensors[name], expected, name);
    }
    expect(Object.keys(content.tensors).sort()).toEqual(Object.keys(dtypesFixture.tensors).sort());
    dispose(content);
  });

  it('reads the checkpoint written by pth_to_safetensors.py bit-exactly, num_batches_tracked as int32', () => {
    const content = readSafetensors(fixture('tiny-cnn.safetensors'));
    expect(content.metadata).toEqual(tinyFixture.metadata);
    expect(content.dtypes['bn1.num_batches_tracked']).toBe('I64');
    expect(content.tensors['bn1.num_batches_tracked'].dataSync()[0]).toBe(3);
    for (const [name, expected] of Object.entries(
      tinyFixture.tensors as Record<string, Expected>,
    )) {
      expectExact(content.tensors[name], expected, name);
    }
    dispose(content);
  });

  it('select reads only the named tensors, or those a predicate accepts', () => {
    const bytes = fixture('tiny-cnn.safetensors');
    const some = readSafetensors(bytes, { select: ['fc.weight', 'bn1.running_var'] });
    expect(Object.keys(some.tensors).sort()).toEqual(['bn1.running_var', 'fc.weight']);
    dispose(some);
    const biases = readSafetensors(bytes, { select: (name) => name.endsWith('.bias') });
    expect(Object.keys(biases.tensors).sort()).toEqual([
      'bn1.bias',
      'bn2.bias',
      'dw.bias',
      'fc.bias',
      'up.bias',
    ]);
    dispose(biases);
    expect(() =>
      readSafetensors(bytes, { select: ['fc.weight', 'nope'], file: 'tiny.safetensors' }),
    ).toThrow(/safetensors tiny.safetensors: select: 1 tensor\(s\) not in the file: tensor "nope"/);
  });

  it('refuses to write unsupported dtypes and invalid metadata', () => {
    const c = tf.complex([1], [2]);
    expect(() => writeSafetensors({ c })).toThrow(/complex64/);
    c.dispose();
    const t = tf.scalar(1);
    expect(() => writeSafetensors({ t }, { n: 1 as unknown as string })).toThrow(
      /metadata "n" must be a string/,
    );
    expect(() => writeSafetensors({ __metadata__: t })).toThrow(/__metadata__/);
    t.dispose();
  });
});

describe('safetensors validation', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /truncated: expected at least 8 bytes/],
    [
      'a file shorter than 8 bytes',
      new Uint8Array(5),
      /truncated: expected at least 8 bytes .* received 5/,
    ],
    [
      'a huge header length (2^60)',
      rawFile({}, undefined, 2n ** 60n),
      /header length 1152921504606846976 exceeds the limit of 100000000 bytes/,
    ],
    [
      'a header longer than the file',
      rawFile({ a: f32(1) }, new Uint8Array(4), 5000n),
      /header length 5000 runs past the end of the file/,
    ],
    [
      'a truncated data buffer',
      rawFile({ a: f32(4) }, new Uint8Array(10)),
      /tensor "a": data_offsets \[0, 16\] run past the end of the data buffer \(10 bytes\)/,
    ],
    ['invalid JSON', rawFile('{"a": {"dtype": "F32",'), /the header is not valid JSON/],
    ['a header that is not an object', rawFile('{}').fill(0x5b, 8, 9), /must start with "\{"/],
    ['a JSON array', rawFile('[1, 2]'), /must start with "\{"/],
    [
      'invalid UTF-8',
      rawFile('{"\xff": 1}').map((b, i) => (i === 10 ? 0xff : b)),
      /not valid UTF-8/,
    ],
    [
      'an unknown dtype',
      rawFile({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)),
      /tensor "w": unknown dtype "F128" \(expected one of BOOL, U8/,
    ],
    [
      'a negative dimension',
      rawFile({ w: { dtype: 'F32', shape: [-1, 2], data_offsets: [0, 0] } }),
      /tensor "w": shape must be an array of non-negative integers, received \[-1,2\]/,
    ],
    [
      'a fractional dimension',
      rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 6] } }, new Uint8Array(6)),
      /shape must be an array of non-negative integers/,
    ],
    [
      'a huge shape',
      rawFile(
        { w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } },
        new Uint8Array(8),
      ),
      /tensor "w": data_offsets \[0, 8\] span 8 bytes, but F32 shape \[1099511627776, 1099511627776\] needs 4835703278458516698824704 bytes/,
    ],
    [
      'a size/shape mismatch',
      rawFile(
        { 'fc.weight': { dtype: 'F32', shape: [5, 8], data_offsets: [0, 100] } },
        new Uint8Array(100),
      ),
      /tensor "fc.weight": data_offsets \[0, 100\] span 100 bytes, but F32 shape \[5, 8\] needs 160 bytes/,
    ],
    [
      'offsets out of range',
      rawFile({ w: { dtype: 'U8', shape: [4], data_offsets: [8, 12] } }, new Uint8Array(8)),
      /data_offsets \[8, 12\] run past the end/,
    ],
    [
      'reversed offsets',
      rawFile({ w: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)),
      /end before they begin/,
    ],
    [
      'non-integer offsets',
      rawFile({ w: { dtype: 'U8', shape: [1], data_offsets: ['0', 1] } }, new Uint8Array(1)),
      /data_offsets must be two non-negative integers/,
    ],
    [
      'overlapping offsets',
      rawFile({ a: f32(2, 0), b: f32(2, 4) }, new Uint8Array(12)),
      /tensor "b" data_offsets \[4, 12\] overlap tensor "a" \(which ends at 8\)/,
    ],
    [
      'a gap between tensors',
      rawFile({ a: f32(1, 0), b: f32(1, 8) }, new Uint8Array(12)),
      /gap in the data buffer: bytes \[4, 8\) belong to no tensor \(next: tensor "b"\)/,
    ],
    [
      'a gap at the start',
      rawFile({ a: f32(1, 4) }, new Uint8Array(8)),
      /gap in the data buffer: bytes \[0, 4\)/,
    ],
    [
      'trailing bytes',
      rawFile({ a: f32(1) }, new Uint8Array(7)),
      /the data buffer has 7 bytes but the tensors cover only \[0, 4\): 3 trailing bytes/,
    ],
    [
      'metadata that is not strings',
      rawFile({ __metadata__: { epoch: 3 } }),
      /__metadata__\["epoch"\] must be a string, received 3/,
    ],
    [
      'an entry that is not an object',
      rawFile({ w: [1, 2] }),
      /tensor "w": expected an object \{dtype, shape, data_offsets\}/,
    ],
    [
      'an F8 tensor (known but unsupported)',
      rawFile({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)),
      /dtype F8_E4M3 is not supported/,
    ],
  ];
  for (const [label, bytes, message] of cases) {
    it(`refuses ${label} with a clear error`, () => {
      expect(() => readSafetensors(bytes, { file: 'bad.safetensors' })).toThrow(message);
      expect(() => readSafetensors(bytes, { file: 'bad.safetensors' })).toThrow(
        /^safetensors bad.safetensors: /,
      );
    });
  }

  it('refuses I64 / U64 / U32 values outside the int32 range, naming the tensor and element', () => {
    const wide = new Uint8Array(24);
    const view = new DataView(wide.buffer);
    view.setBigInt64(0, 5n, true);
    view.setBigInt64(8, -2147483648n, true);
    view.setBigInt64(16, 2147483648n, true);
    const header = {
      'bn.num_batches_tracked': { dtype: 'I64', shape: [3], data_offsets: [0, 24] },
    };
    expect(() => readSafetensors(rawFile(header, wide))).toThrow(
      /tensor "bn.num_batches_tracked" \(I64 \[3\]\): element 2 is 2147483648, outside the int32 range/,
    );
    view.setBigInt64(16, -(2n ** 62n), true);
    expect(() => readSafetensors(rawFile(header, wide))).toThrow(
      /element 2 is -4611686018427387904/,
    );
    view.setBigInt64(16, 7n, true);
    const ok = readSafetensors(rawFile(header, wide));
    expect(Array.from(ok.tensors['bn.num_batches_tracked'].dataSync())).toEqual([
      5, -2147483648, 7,
    ]);
    dispose(ok);
    const u64 = rawFile(
      { u: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } },
      new Uint8Array(8).fill(0xff),
    );
    expect(() => readSafetensors(u64)).toThrow(/element 0 is 18446744073709551615/);
    const u32 = rawFile(
      { u: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } },
      new Uint8Array([0, 0, 0, 0x80]),
    );
    expect(() => readSafetensors(u32)).toThrow(/element 0 is 2147483648/);
  });

  it('allocates no tensor when a later tensor fails to decode', () => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setBigInt64(4, 2n ** 40n, true);
    const file = rawFile(
      { a: f32(1, 0), b: { dtype: 'I64', shape: [1], data_offsets: [4, 12] } },
      data,
    );
    const before = tf.memory().numTensors;
    expect(() => readSafetensors(file)).toThrow(/tensor "b"/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts a raw file with empty and 0-d tensors', () => {
    const file = encodeRawSafetensors([
      { name: 'e', dtype: 'F16', shape: [3, 0], data: new Uint8Array(0) },
      { name: 's', dtype: 'I8', shape: [], data: new Uint8Array([0xfe]) },
    ]);
    const content = readSafetensors(file.buffer as ArrayBuffer);
    expect(content.tensors.e.shape).toEqual([3, 0]);
    expect(content.tensors.s.shape).toEqual([]);
    expect(content.tensors.s.dataSync()[0]).toBe(-2);
    dispose(content);
  });
});

describe('readSafetensorsFromResponse', () => {
  function chunked(
    bytes: Uint8Array,
    size: number,
    headers: Record<string, string> = {},
  ): Response {
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.byteLength) controller.close();
        else {
          controller.enqueue(bytes.slice(offset, offset + size));
          offset += size;
        }
      },
    });
    return new Response(body, { headers });
  }

  it('streams a file in small chunks, with select, matching the in-memory reader', async () => {
    const bytes = fixture('tiny-cnn.safetensors');
    const all = await readSafetensorsFromResponse(
      chunked(bytes, 7, { 'content-length': String(bytes.byteLength) }),
    );
    const reference = readSafetensors(bytes);
    for (const name of Object.keys(reference.tensors)) {
      expect(Array.from(all.tensors[name].dataSync()), name).toEqual(
        Array.from(reference.tensors[name].dataSync()),
      );
    }
    expect(all.metadata).toEqual(reference.metadata);
    const some = await readSafetensorsFromResponse(chunked(bytes, 1000), { select: ['up.weight'] });
    expect(Object.keys(some.tensors)).toEqual(['up.weight']);
    for (const c of [all, reference, some]) dispose(c);
  });

  it('refuses truncated streams, extra bytes, a lying Content-Length and HTTP errors', async () => {
    const bytes = fixture('tiny-cnn.safetensors');
    await expect(
      readSafetensorsFromResponse(chunked(bytes.slice(0, bytes.byteLength - 3), 64), { file: 'x' }),
    ).rejects.toThrow(/safetensors x: truncated/);
    const longer = new Uint8Array(bytes.byteLength + 5);
    longer.set(bytes);
    await expect(readSafetensorsFromResponse(chunked(longer, 64))).rejects.toThrow(
      /bytes after the/,
    );
    await expect(
      readSafetensorsFromResponse(
        chunked(bytes, 64, { 'content-length': String(bytes.byteLength + 100) }),
      ),
    ).rejects.toThrow(/trailing bytes belong to no tensor/);
    await expect(
      readSafetensorsFromResponse(new Response('nope', { status: 404, statusText: 'Not Found' })),
    ).rejects.toThrow(/HTTP 404 Not Found/);
    const huge = rawFile({}, undefined, 2n ** 60n);
    await expect(readSafetensorsFromResponse(chunked(huge, 64))).rejects.toThrow(
      /exceeds the limit/,
    );
  });
});

describe('safetensors headers nested deeply', () => {
  const deep = (depth: number, open = '[', close = ']') =>
    `${open.repeat(depth)}${close.repeat(depth)}`;
  const deepObject = (depth: number) => `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const file = (header: string) => {
    const text = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + text.byteLength);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.byteLength), true);
    bytes.set(text, 8);
    return bytes;
  };
  it.each([
    [
      'an entry',
      `{"a":${deep(5000)}}`,
      /tensor "a": expected an object \{dtype, shape, data_offsets\}, received an array nested too deeply to show/,
    ],
    [
      'a dtype',
      `{"a":{"dtype":${deep(20000)},"shape":[],"data_offsets":[0,0]}}`,
      /tensor "a": unknown dtype an array nested too deeply to show/,
    ],
    [
      'a shape',
      `{"a":{"dtype":"F32","shape":${deepObject(20000)},"data_offsets":[0,4]}}`,
      /tensor "a": shape must be an array of non-negative integers/,
    ],
    [
      'data_offsets',
      `{"a":{"dtype":"F32","shape":[1],"data_offsets":${deep(20000)}}}`,
      /tensor "a": data_offsets must be two non-negative integers/,
    ],
    [
      'metadata',
      `{"__metadata__":{"k":${deepObject(20000)}}}`,
      /__metadata__\["k"\] must be a string/,
    ],
    [
      'metadata itself',
      `{"__metadata__":${deep(20000)}}`,
      /__metadata__ must be an object of strings/,
    ],
  ])('%s nested 5,000+ deep gives the library error, not a RangeError', (_, header, message) => {
    let error: unknown;
    try {
      readSafetensors(file(header));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toMatch(/^safetensors: /);
    expect((error as Error).message).toMatch(message);
  });
});
