// Test helpers: a tiny pickle assembler and a torch.save-shaped zip writer (fflate, stored
// entries), to craft archives that PyTorch would never write.
import { zipSync } from 'fflate';

export type Part = number | readonly number[] | Uint8Array | string;

const encoder = new TextEncoder();

/** Concatenate opcodes and arguments: numbers are bytes, strings are written as UTF-8. */
export function pickle(...parts: Part[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === 'number' ? Uint8Array.of(p) : typeof p === 'string' ? encoder.encode(p) : Uint8Array.from(p),
  );
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

export const op = {
  proto: [0x80, 2],
  stop: 0x2e,
  mark: 0x28,
  emptyDict: 0x7d,
  emptyList: 0x5d,
  emptyTuple: 0x29,
  none: 0x4e,
  true: 0x88,
  false: 0x89,
  tuple: 0x74,
  tuple1: 0x85,
  tuple2: 0x86,
  list: 0x6c,
  dict: 0x64,
  append: 0x61,
  appends: 0x65,
  setitem: 0x73,
  setitems: 0x75,
  reduce: 0x52,
  build: 0x62,
  newobj: 0x81,
  binpersid: 0x51,
  stackGlobal: 0x93,
  dup: 0x32,
  pop: 0x30,
  int1: (n: number) => [0x4b, n],
  int: (n: number) => [0x4a, ...u32(n)],
  str: (s: string) => {
    const bytes = encoder.encode(s);
    return pickle(0x58, u32(bytes.byteLength), bytes);
  },
  global: (module: string, name: string) => pickle(0x63, `${module}\n${name}\n`),
  put: (i: number) => [0x71, i],
  get: (i: number) => [0x68, i],
};

/** `_rebuild_tensor_v2(storage(key, type, numel), offset, size, stride, False, OrderedDict())`. */
export function tensorPickle(
  key: string,
  storageType: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
): Uint8Array {
  const ints = (xs: number[]) => pickle(op.mark, ...xs.flatMap((x) => op.int(x)), op.tuple);
  return pickle(
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark,
    op.mark,
    op.str('storage'),
    op.global('torch', storageType),
    op.str(key),
    op.str('cpu'),
    op.int(numel),
    op.tuple,
    op.binpersid,
    op.int(offset),
    ints(size),
    ints(stride),
    op.false,
    op.global('collections', 'OrderedDict'),
    op.emptyTuple,
    op.reduce,
    op.tuple,
    op.reduce,
  );
}

/** `{name: tensor}` as torch.save pickles a dict of tensors. */
export function stateDictPickle(entries: [string, Uint8Array][]): Uint8Array {
  return pickle(
    op.proto,
    op.emptyDict,
    op.mark,
    ...entries.flatMap(([name, tensor]) => [op.str(name), tensor]),
    op.setitems,
    op.stop,
  );
}

/** A zip archive laid out as torch.save's: `archive/data.pkl`, `archive/data/<key>`, ... */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': pkl };
  for (const [key, data] of Object.entries(storages)) files[`archive/data/${key}`] = data;
  Object.assign(files, extra);
  return zipSync(files, { level: 0 });
}

export function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
