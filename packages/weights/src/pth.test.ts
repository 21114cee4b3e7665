import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  float32Bytes,
  op,
  pickle,
  stateDictPickle,
  tensorPickle,
  torchZip,
} from './__fixtures__/pickle';
import { inspectPth, PthTensor, readPth, readPthFile, readPthFromResponse } from './index';

const fixtureUrl = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(fixtureUrl(name)));
const json = (name: string) => JSON.parse(readFileSync(fixtureUrl(name), 'utf8'));

interface Expected {
  dtype: string;
  shape: number[];
  bits?: number[];
  values?: number[];
}

const TF_DTYPE: Record<string, string> = {
  float32: 'float32',
  float64: 'float32',
  float16: 'float32',
  bfloat16: 'float32',
  int64: 'int32',
  int32: 'int32',
  int16: 'int32',
  int8: 'int32',
  uint8: 'int32',
  bool: 'bool',
};

function expectTensor(name: string, tensor: tf.Tensor, expected: Expected) {
  expect(tensor.shape, name).toEqual(expected.shape);
  expect(tensor.dtype, name).toBe(TF_DTYPE[expected.dtype]);
  const data = tensor.dataSync();
  if (expected.bits) {
    expect([...new Uint32Array(Float32Array.from(data as Float32Array).buffer)], name).toEqual(
      expected.bits,
    );
  } else {
    expect([...data], name).toEqual(expected.values);
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('readPth on files written by torch.save (PyTorch 1.13)', () => {
  it('reads every storage dtype, strided / offset / shared / expanded views and a Parameter exactly', () => {
    const before = tf.memory().numTensors;
    const expected = json('pth-dtypes.json') as Record<string, Expected>;
    const { tensors, dtypes, key, skipped } = readPth(fixture('pth-dtypes.pt'), {
      file: 'pth-dtypes.pt',
    });
    expect(key).toBeNull();
    expect(skipped).toEqual([]);
    expect(Object.keys(tensors)).toEqual(Object.keys(expected));
    for (const [name, e] of Object.entries(expected)) expectTensor(name, tensors[name], e);
    expect(dtypes).toMatchObject({
      f32: 'F32',
      f64: 'F64',
      f16: 'F16',
      bf16: 'BF16',
      i64: 'I64',
      bool: 'BOOL',
      u8: 'U8',
    });
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('finds the state dict of a checkpoint and exposes the rest of the pickle', async () => {
    const expected = json('pth-checkpoint.json') as Record<string, Expected>;
    const { tensors, key } = await readPthFile(fileURLToPathSafe(fixtureUrl('pth-checkpoint.pt')));
    expect(key).toBe('model_state_dict');
    expect(Object.keys(tensors)).toEqual(Object.keys(expected));
    for (const [name, e] of Object.entries(expected)) expectTensor(name, tensors[name], e);
    tf.dispose(Object.values(tensors));

    const { root, storages } = inspectPth(fixture('pth-checkpoint.pt'));
    expect(root).toBeInstanceOf(Map);
    const top = root as Map<string, unknown>;
    expect(top.get('epoch')).toBe(3);
    const meta = top.get('meta') as Map<string, unknown>;
    expect(meta.get('lr')).toBe(0.1);
    expect(meta.get('names')).toEqual(['a', 'b']);
    expect(meta.get('flags')).toEqual([true, false, null]);
    expect(Object.isFrozen(meta.get('flags'))).toBe(true); // a tuple
    expect(meta.get('big')).toBe(2n ** 70n);
    expect(meta.get('neg')).toBe(-(2 ** 40));
    const optimizer = top.get('optimizer_state_dict') as Map<string, unknown>;
    const state = optimizer.get('state') as Map<number, Map<string, unknown>>;
    expect(state.get(0)?.get('momentum_buffer')).toBeInstanceOf(PthTensor);
    expect(storages.size).toBeGreaterThan(0);

    const momentum = readPth(fixture('pth-checkpoint.pt'), { key: 'optimizer_state_dict' });
    expect(momentum.tensors).toEqual({});
    expect(momentum.skipped).toEqual(['state', 'param_groups']);
  });

  it('select, stripPrefix and the Response reader', async () => {
    const one = readPth(fixture('pth-dtypes.pt'), { select: ['transposed'] });
    expect(Object.keys(one.tensors)).toEqual(['transposed']);
    tf.dispose(Object.values(one.tensors));
    expect(() => readPth(fixture('pth-dtypes.pt'), { select: ['nope'] })).toThrow(
      /select: 1 tensor\(s\) not in the state dict: "nope" \(it has 19: f32, f64/,
    );
    const stripped = readPth(fixture('pth-checkpoint.pt'), { stripPrefix: '0.' });
    expect(Object.keys(stripped.tensors)).toContain('weight');
    tf.dispose(Object.values(stripped.tensors));
    const viaFetch = await readPthFromResponse(new Response(fixture('pth-dtypes.pt')), {
      select: (n) => n === 'i64',
    });
    expect([...viaFetch.tensors.i64.dataSync()]).toEqual([-(2 ** 31), 2 ** 31 - 1, 0, -7]);
    tf.dispose(Object.values(viaFetch.tensors));
    await expect(
      readPthFromResponse(new Response('x', { status: 404, statusText: 'Not Found' }), {
        file: 'm.pth',
      }),
    ).rejects.toThrow('pth m.pth: HTTP 404 Not Found');
  });

  it('refuses the legacy format, TorchScript archives, other files, and a missing key', () => {
    expect(() => readPth(fixture('pth-legacy.pt'), { file: 'old.pt' })).toThrow(
      /^pth old\.pt: a legacy \(pre-1\.6, non-zip\) torch\.save file.*save it again with torch\.save/,
    );
    expect(() => readPth(fixture('pth-torchscript.pt'))).toThrow(
      /a TorchScript archive \(torch\.jit\.save\)/,
    );
    expect(() => readPth(fixture('dtypes.safetensors'))).toThrow(/^pth: not a PyTorch zip archive/);
    expect(() => readPth(fixture('pth-checkpoint.pt'), { key: 'ema' })).toThrow(
      /key "ema" is not in the top-level dict; it has "epoch" \(int 3\), "model_state_dict" \(dict of 9, 9 tensors\)/,
    );
    expect(() => readPth(fixture('pth-checkpoint.pt'), { key: 'epoch' })).toThrow(
      /key "epoch" is a int 3, not a dict/,
    );
  });
});

function fileURLToPathSafe(url: URL): string {
  return decodeURIComponent(url.pathname);
}

describe('restricted unpickler', () => {
  const storage = { '0': float32Bytes([1, 2, 3, 4, 5, 6]) };
  const ok = (pkl: Uint8Array) => readPth(torchZip(pkl, storage));

  it('builds tensors from crafted pickles (shared storage, big-endian byteorder)', () => {
    const t = tensorPickle('0', 'FloatStorage', 6, 1, [2, 2], [1, 2]);
    const { tensors } = ok(stateDictPickle([['w', t]]));
    expect([...tensors.w.dataSync()]).toEqual([2, 4, 3, 5]);
    tf.dispose(tensors.w);
    const big = new Uint8Array(storage['0'].byteLength);
    for (let i = 0; i < big.byteLength; i += 4)
      for (let k = 0; k < 4; k++) big[i + k] = storage['0'][i + 3 - k];
    const archive = torchZip(
      stateDictPickle([['w', tensorPickle('0', 'FloatStorage', 6, 0, [6], [1])]]),
      { '0': big },
      {
        'archive/byteorder': new TextEncoder().encode('big'),
      },
    );
    const swapped = readPth(archive);
    expect([...swapped.tensors.w.dataSync()]).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose(swapped.tensors.w);
  });

  it('refuses globals and calls outside the allowlist, naming them', () => {
    const system = pickle(
      op.proto,
      op.global('os', 'system'),
      op.str('echo hi'),
      op.tuple1,
      op.reduce,
      op.stop,
    );
    expect(() => ok(system)).toThrow(
      /data\.pkl: byte 2: refusing global os\.system: only what torch\.load\(weights_only=True\) accepts/,
    );
    const evil = pickle(op.proto, op.str('builtins'), op.str('eval'), op.stackGlobal, op.stop);
    expect(() => ok(evil)).toThrow(/refusing global builtins\.eval/);
    const storageCall = pickle(
      op.proto,
      op.global('torch', 'FloatStorage'),
      op.emptyTuple,
      op.reduce,
      op.stop,
    );
    expect(() => ok(storageCall)).toThrow(/refusing to call torch\.FloatStorage/);
    const newobj = pickle(
      op.proto,
      op.global('torch._utils', '_rebuild_tensor_v2'),
      op.emptyTuple,
      op.newobj,
      op.stop,
    );
    expect(() => ok(newobj)).toThrow(/refusing NEWOBJ of global torch\._utils\._rebuild_tensor_v2/);
    const build = pickle(op.proto, op.emptyList, op.emptyDict, op.build, op.stop);
    expect(() => ok(build)).toThrow(/refusing BUILD \(setting the state\) of a list/);
    const complex = pickle(op.proto, op.global('torch', 'ComplexFloatStorage'), op.stop);
    expect(() => ok(complex)).toThrow(/complex tensors are not supported/);
    const leakedGlobal = pickle(
      op.proto,
      op.emptyList,
      op.global('collections', 'OrderedDict'),
      op.append,
      op.stop,
    );
    expect(() => ok(leakedGlobal)).toThrow(
      /a global collections\.OrderedDict cannot be used as a value/,
    );
    const textOp = pickle(op.proto, 0x49, '1\n', op.stop);
    expect(() => ok(textOp)).toThrow(/opcode INT \(0x49\) is not accepted/);
  });

  it('checks storages and views against the archive', () => {
    const past = tensorPickle('0', 'FloatStorage', 6, 4, [2, 2], [2, 1]);
    expect(() => ok(stateDictPickle([['w', past]]))).toThrow(
      /a tensor of size \[2, 2\], stride \[2, 1\] at offset 4 reads element 7, the storage "0" has 6/,
    );
    const wrongSize = tensorPickle('0', 'FloatStorage', 7, 0, [1], [1]);
    expect(() => ok(stateDictPickle([['w', wrongSize]]))).toThrow(
      /7 elements of F32 need 28 bytes, the entry has 24/,
    );
    const missing = tensorPickle('9', 'FloatStorage', 6, 0, [1], [1]);
    expect(() => ok(stateDictPickle([['w', missing]]))).toThrow(
      /storage "9" has no entry archive\/data\/9/,
    );
    const expanded = tensorPickle('0', 'FloatStorage', 6, 0, [100000, 100000], [0, 0]);
    expect(() => ok(stateDictPickle([['w', expanded]]))).toThrow(
      /10000000000 elements in all, more than maxElements/,
    );
  });

  it('never recurses, never allocates from declared lengths, and bounds the stack and the memo', () => {
    const deep = pickle(op.proto, ...Array.from({ length: 70000 }, () => op.mark), op.stop);
    expect(() => ok(deep)).toThrow(/more than 65536 open MARKs/);
    const nested = pickle(
      op.proto,
      ...Array.from({ length: 20000 }, () => op.emptyList),
      ...Array.from({ length: 19999 }, () => op.append),
      op.stop,
    );
    const root = inspectPth(torchZip(nested)).root as unknown[];
    expect(Array.isArray(root)).toBe(true);
    expect(() => readPth(torchZip(nested))).toThrow(
      /the file holds a list \(1 items\), expected a dict/,
    );
    const huge = pickle(op.proto, 0x8d, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], op.stop);
    expect(() => ok(huge)).toThrow(/truncated: a str needs Infinity bytes/);
    const cycle = pickle(op.proto, op.emptyList, op.put(0), op.get(0), op.append, op.stop);
    const list = inspectPth(torchZip(cycle)).root as unknown[];
    expect(list[0]).toBe(list);
    const longInt = pickle(op.proto, 0x8b, [0xff, 0xff, 0xff, 0x7f], op.stop);
    expect(() => ok(longInt)).toThrow(/an int of 2147483647 bytes/);
    expect(() => ok(pickle(op.proto, op.emptyDict))).toThrow(
      /truncated: the pickle ends without STOP/,
    );
    expect(() => ok(pickle(op.proto, op.emptyDict, op.emptyDict, op.stop))).toThrow(
      /STOP with 2 items on the stack/,
    );
  });

  it('checks CRCs and refuses compressed entries', () => {
    const t = tensorPickle('0', 'FloatStorage', 6, 0, [6], [1]);
    const archive = torchZip(stateDictPickle([['w', t]]), storage);
    const at = indexOf(archive, storage['0']);
    archive[at + 5] ^= 1;
    expect(() => readPth(archive)).toThrow(
      /archive\/data\/0: CRC-32 mismatch .* the file is corrupted/,
    );
    const read = readPth(archive, { verifyChecksums: false });
    tf.dispose(Object.values(read.tensors));
    const deflated = zipSync({ 'archive/data.pkl': stateDictPickle([]) }, { level: 6 });
    expect(() => readPth(deflated)).toThrow(
      /archive\/data\.pkl: compression method 8; only stored entries/,
    );
  });

  it('reads a file from disk and names it in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pth-'));
    const path = join(dir, 'bad.pth');
    writeFileSync(path, torchZip(pickle(op.proto, op.global('subprocess', 'Popen'), op.stop)));
    await expect(readPthFile(path)).rejects.toThrow(
      `pth ${path}: data.pkl: byte 2: refusing global subprocess.Popen`,
    );
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
