/**
 * A restricted unpickler for the `data.pkl` of a `torch.save` zip archive: it accepts what
 * `torch.load(weights_only=True)` accepts for state dicts and checkpoints (tensors rebuilt by
 * `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` over storages given as persistent
 * ids, dict / OrderedDict, list, tuple, str, bytes, int, float, bool, None) and refuses every
 * other global and every call, naming it. Nothing is executed and nothing is imported: a global
 * is a marker, and a REDUCE of a marker runs one of the few builders below.
 *
 * Bounded: one pass over the bytes, no recursion; every length is checked against the bytes
 * left before anything is allocated; the stack, the mark stack and the memo have limits.
 */
import { type PthDtype, type PthKey, PthTensor, type PthValue } from '../pth-value';

/** A global the pickle named (only allowed ones are ever created). */
class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage given as a persistent id: `('storage', torch.FloatStorage, key, location, numel)`. */
class Storage {
  constructor(
    readonly dtype: PthDtype,
    readonly key: string,
    readonly size: number,
  ) {}
}

type Item = PthValue | Global | Storage;

export const STORAGE_DTYPES: Readonly<Record<string, PthDtype>> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** Storages PyTorch has that tfjs cannot hold: refused with this reason. */
const UNSUPPORTED_STORAGES: Readonly<Record<string, string>> = {
  ComplexFloatStorage: 'complex tensors',
  ComplexDoubleStorage: 'complex tensors',
  QInt8Storage: 'quantized tensors',
  QUInt8Storage: 'quantized tensors',
  QInt32Storage: 'quantized tensors',
  QUInt4x2Storage: 'quantized tensors',
  QUInt2x4Storage: 'quantized tensors',
};

/** The callables REDUCE may call (all build data; none has side effects). */
const CALLABLES = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch.Size',
  '_codecs.encode',
] as const;

export const ALLOWED_GLOBALS: readonly string[] = [
  ...CALLABLES,
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
];

export interface UnpickleLimits {
  /** Items on the stack at once. */
  maxStack: number;
  /** Entries in the memo. */
  maxMemo: number;
  /** Open MARKs at once. */
  maxMarks: number;
}

export const DEFAULT_UNPICKLE_LIMITS: UnpickleLimits = {
  maxStack: 1 << 20,
  maxMemo: 1 << 20,
  maxMarks: 1 << 16,
};

const MAX_GLOBAL_NAME = 512;
const MAX_LONG_BYTES = 64;

const decoder = new TextDecoder('utf-8', { fatal: true });

function isTuple(value: Item): value is readonly PthValue[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

function isList(value: Item): value is PthValue[] {
  return Array.isArray(value) && !Object.isFrozen(value);
}

function isKey(value: Item): value is PthKey {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean'
  );
}

/** A short description of a value for messages (never its whole content). */
export function kindOf(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof Global) return `global ${value.qualified}`;
  if (value instanceof Storage) return `storage ${value.key}`;
  if (value instanceof PthTensor) return `tensor ${value.dtype} [${value.shape.join(', ')}]`;
  if (value instanceof Map) return `dict (${value.size} entries)`;
  if (value instanceof Uint8Array) return `bytes (${value.byteLength})`;
  if (Array.isArray(value))
    return `${Object.isFrozen(value) ? 'tuple' : 'list'} (${value.length} items)`;
  if (typeof value === 'string')
    return `str ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
  if (typeof value === 'bigint') return `int ${value}`;
  if (typeof value === 'number') return `${Number.isInteger(value) ? 'int' : 'float'} ${value}`;
  return `${typeof value} ${String(value)}`;
}

const OPCODE_NAMES: Record<number, string> = {
  73: 'INT',
  76: 'LONG',
  70: 'FLOAT',
  83: 'STRING',
  86: 'UNICODE',
  80: 'PERSID',
  112: 'PUT',
  103: 'GET',
  105: 'INST',
  111: 'OBJ',
  143: 'EMPTY_SET',
  144: 'ADDITEMS',
  145: 'FROZENSET',
  146: 'NEWOBJ_EX',
  130: 'EXT1',
  131: 'EXT2',
  132: 'EXT4',
  150: 'BYTEARRAY8',
  151: 'NEXT_BUFFER',
  152: 'READONLY_BUFFER',
};

/**
 * Unpickle `bytes`. `where` prefixes every error (`pth model.pth: data.pkl`). Storages are
 * checked by `storage(key, dtype, numel)` when they appear (it throws for a missing or
 * mis-sized archive entry).
 */
export function unpickle(
  bytes: Uint8Array,
  where: string,
  checkStorage: (key: string, dtype: PthDtype, size: number) => void,
  limits: UnpickleLimits = DEFAULT_UNPICKLE_LIMITS,
): PthValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Item[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Item>();
  let pos = 0;
  let opAt = 0;

  const fail = (message: string): never => {
    throw new Error(`${where}: byte ${opAt}: ${message}`);
  };
  const need = (n: number, what: string) => {
    if (!(n >= 0) || pos + n > bytes.byteLength) {
      fail(
        `truncated: ${what} needs ${n} bytes, ${bytes.byteLength - pos} are left (a pickle ends with STOP)`,
      );
    }
  };
  const u8 = () => {
    need(1, 'an argument');
    return bytes[pos++];
  };
  const u16 = () => {
    need(2, 'an argument');
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4, 'an argument');
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4, 'an argument');
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8, 'an argument');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    return v > BigInt(bytes.byteLength) ? Number.POSITIVE_INFINITY : Number(v);
  };
  const take = (n: number, what: string) => {
    need(n, what);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number, what: string) => {
    const raw = take(n, what);
    try {
      return decoder.decode(raw);
    } catch {
      return fail(`${what} is not valid UTF-8`);
    }
  };
  const line = (what: string) => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_GLOBAL_NAME) {
      fail(`${what} is not a newline-terminated name of at most ${MAX_GLOBAL_NAME} bytes`);
    }
    const value = text(end - pos, what);
    pos++;
    return value;
  };
  const push = (item: Item) => {
    if (stack.length >= limits.maxStack) fail(`the stack exceeds ${limits.maxStack} items`);
    stack.push(item);
  };
  const pop = (what: string): Item => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail(`${what}: the stack is empty`);
    return stack.pop() as Item;
  };
  const top = (what: string): Item => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail(`${what}: the stack is empty`);
    return stack[stack.length - 1];
  };
  const popMark = (what: string): Item[] => {
    const mark = marks.pop();
    if (mark === undefined) fail(`${what} without a MARK`);
    return stack.splice(mark as number);
  };
  // Tuples holding a global or a storage (a persistent id, REDUCE arguments), directly or
  // through other such tuples: usable only as arguments, never as values.
  const tainted = new WeakSet<object>();
  const value = (item: Item, what: string): PthValue => {
    if (item instanceof Global || item instanceof Storage) {
      fail(`${what}: a ${kindOf(item)} cannot be used as a value`);
    }
    if (Array.isArray(item) && tainted.has(item)) {
      fail(`${what}: a tuple holding a global or a storage cannot be used as a value`);
    }
    return item as PthValue;
  };
  const tuple = (items: Item[]): readonly PthValue[] => {
    const out = Object.freeze(items) as readonly PthValue[];
    if (
      items.some(
        (v) => v instanceof Global || v instanceof Storage || (Array.isArray(v) && tainted.has(v)),
      )
    ) {
      tainted.add(out);
    }
    return out;
  };
  const put = (index: number) => {
    if (!memo.has(index) && memo.size >= limits.maxMemo) {
      fail(`the memo exceeds ${limits.maxMemo} entries`);
    }
    memo.set(index, top('PUT'));
  };
  const get = (index: number) => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored`);
    push(memo.get(index) as Item);
  };
  const setItems = (dict: Item, items: Item[]) => {
    if (!(dict instanceof Map)) fail(`SETITEM(S) on a ${kindOf(dict)}, expected a dict`);
    if (items.length % 2 !== 0) fail(`SETITEMS with an odd number (${items.length}) of items`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (!isKey(key)) fail(`a dict key must be a str, int, bool or None, received ${kindOf(key)}`);
      (dict as Map<PthKey, PthValue>).set(key as PthKey, value(items[i + 1], 'a dict value'));
    }
  };
  const appendItems = (list: Item, items: Item[]) => {
    if (!isList(list)) fail(`APPEND(S) on a ${kindOf(list)}, expected a list`);
    for (const item of items) (list as PthValue[]).push(value(item, 'a list item'));
  };
  const global = (module: string, name: string): Global => {
    const qualified = `${module}.${name}`;
    if (module === 'torch' && Object.hasOwn(UNSUPPORTED_STORAGES, name)) {
      fail(
        `global ${qualified}: ${UNSUPPORTED_STORAGES[name]} are not supported (tfjs has no such dtype)`,
      );
    }
    if (!ALLOWED_GLOBALS.includes(qualified)) {
      fail(
        `refusing global ${qualified}: only what torch.load(weights_only=True) accepts for tensors and state dicts is allowed (${ALLOWED_GLOBALS.join(', ')})`,
      );
    }
    return new Global(module, name);
  };
  const tensorArgs = (args: readonly PthValue[], callee: string): PthTensor => {
    if (args.length < 4) fail(`${callee} expects at least 4 arguments, received ${args.length}`);
    const [storage, offset, size, stride] = args as Item[];
    const requiresGrad = args[4] ?? false;
    if (!(storage instanceof Storage))
      fail(`${callee}: argument 0 must be a storage, received ${kindOf(storage)}`);
    const s = storage as Storage;
    const naturals = (v: Item, what: string): number[] => {
      if (!isTuple(v) || !v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        fail(`${callee}: ${what} must be a tuple of non-negative ints, received ${kindOf(v)}`);
      }
      return [...(v as number[])];
    };
    const shape = naturals(size, 'size');
    const strides = naturals(stride, 'stride');
    if (shape.length !== strides.length) {
      fail(`${callee}: size has ${shape.length} dimensions, stride ${strides.length}`);
    }
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
      fail(`${callee}: the storage offset must be a non-negative int, received ${kindOf(offset)}`);
    }
    if (typeof requiresGrad !== 'boolean') {
      fail(`${callee}: requires_grad must be a bool, received ${kindOf(requiresGrad)}`);
    }
    // Every element read must lie inside the storage (overflow-safe: each term is checked).
    let count = 1;
    let last = offset as number;
    for (let d = 0; d < shape.length; d++) {
      count *= shape[d];
      if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
    }
    if (count > 0 && !(last < s.size)) {
      fail(
        `${callee}: a tensor of size [${shape.join(', ')}], stride [${strides.join(', ')}] at offset ${offset} reads element ${last}, the storage ${JSON.stringify(s.key)} has ${s.size}`,
      );
    }
    if (!Number.isSafeInteger(count)) fail(`${callee}: size [${shape.join(', ')}] is too large`);
    return new PthTensor(
      s.dtype,
      shape,
      strides,
      offset as number,
      s.key,
      s.size,
      requiresGrad as boolean,
    );
  };
  const call = (callee: Item, args: Item): Item => {
    if (!(callee instanceof Global))
      fail(`REDUCE of a ${kindOf(callee)}, expected an allowed global`);
    const g = callee as Global;
    if (!isTuple(args))
      fail(`REDUCE of ${g.qualified}: the arguments must be a tuple, received ${kindOf(args)}`);
    const a = args as readonly PthValue[];
    switch (g.qualified) {
      case 'collections.OrderedDict': {
        const dict = new Map<PthKey, PthValue>();
        if (a.length === 0) return dict;
        if (a.length === 1 && Array.isArray(a[0])) {
          for (const pair of a[0] as PthValue[]) {
            if (!isTuple(pair) && !isList(pair))
              fail(`OrderedDict: expected (key, value) pairs, received ${kindOf(pair)}`);
            const [k, v] = pair as PthValue[];
            if ((pair as PthValue[]).length !== 2 || !isKey(k))
              fail('OrderedDict: expected (key, value) pairs with str, int, bool or None keys');
            dict.set(k as PthKey, value(v, 'an OrderedDict value'));
          }
          return dict;
        }
        return fail(
          `OrderedDict expects no arguments or a list of pairs, received ${a.length} arguments`,
        );
      }
      case 'torch._utils._rebuild_tensor_v2':
        if (a.length > 7) fail(`${g.qualified} expects 4 to 7 arguments, received ${a.length}`);
        return tensorArgs(a, g.qualified);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        const [data, requiresGrad] = a;
        if (!(data instanceof PthTensor))
          fail(`${g.qualified}: argument 0 must be a tensor, received ${kindOf(data)}`);
        if (typeof requiresGrad !== 'boolean')
          fail(`${g.qualified}: requires_grad must be a bool, received ${kindOf(requiresGrad)}`);
        const t = data as PthTensor;
        return new PthTensor(
          t.dtype,
          t.shape,
          t.stride,
          t.storageOffset,
          t.storage,
          t.storageSize,
          requiresGrad as boolean,
        );
      }
      case 'torch.Size':
        if (a.length !== 1 || !isTuple(a[0])) fail('torch.Size expects one tuple');
        return a[0];
      case '_codecs.encode': {
        // How protocol 2 pickles Python 3 bytes: _codecs.encode(latin-1 text, 'latin1').
        const [source, encoding] = a;
        if (typeof source !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
          fail("_codecs.encode is accepted only as encode(str, 'latin1') (pickled bytes)");
        }
        const s = source as string;
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 0xff) fail('_codecs.encode: a latin1 character above U+00FF');
          out[i] = c;
        }
        return out;
      }
      default:
        return fail(
          `refusing to call ${g.qualified}: it is not a callable this reader accepts (${CALLABLES.join(', ')})`,
        );
    }
  };

  while (true) {
    opAt = pos;
    if (pos >= bytes.byteLength) fail('truncated: the pickle ends without STOP');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`pickle protocol ${bytes[pos - 1]} is not supported (0 to 5)`);
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length > 0) {
          fail(
            `STOP with ${stack.length} items on the stack and ${marks.length} open MARKs, expected one item`,
          );
        }
        if (pos !== bytes.byteLength) fail(`${bytes.byteLength - pos} bytes after STOP`);
        return value(stack[0], 'the result');
      }
      case 0x28: // MARK
        if (marks.length >= limits.maxMarks) fail(`more than ${limits.maxMarks} open MARKs`);
        marks.push(stack.length);
        break;
      case 0x29: // EMPTY_TUPLE
        push(Object.freeze([]));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > MAX_LONG_BYTES) fail(`an int of ${n} bytes (at most ${MAX_LONG_BYTES} are read)`);
        const raw = take(n, 'an int');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
        if (n > 0 && raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v,
        );
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8, 'a float');
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        push(text(u32(), 'a str'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8(), 'a str'));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64(), 'a str'));
        break;
      case 0x54: {
        // BINSTRING (a Python 2 str, decoded as UTF-8 as torch.load does)
        const n = i32();
        if (n < 0) fail(`a string of negative length ${n}`);
        push(text(n, 'a string'));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(text(u8(), 'a string'));
        break;
      case 0x42: // BINBYTES
        push(take(u32(), 'bytes').slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8(), 'bytes').slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64(), 'bytes').slice());
        break;
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(u8());
        break;
      case 0x6a: // LONG_BINGET
        get(u32());
        break;
      case 0x63: {
        // GLOBAL
        const module = line('the GLOBAL module');
        const name = line('the GLOBAL name');
        push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail(`STACK_GLOBAL expects two str, received ${kindOf(module)} and ${kindOf(name)}`);
        }
        push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', storage type, key, location, numel)
        const pid = pop('BINPERSID');
        if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') {
          fail(
            `a persistent id must be ('storage', type, key, location, numel), received ${kindOf(pid)}`,
          );
        }
        const [, type, key, , numel] = pid as readonly Item[];
        if (
          !(type instanceof Global) ||
          !(type.module === 'torch' && Object.hasOwn(STORAGE_DTYPES, type.name))
        ) {
          fail(`a persistent id's storage type must be a torch storage, received ${kindOf(type)}`);
        }
        if (typeof key !== 'string')
          fail(`a persistent id's key must be a str, received ${kindOf(key)}`);
        if (!Number.isSafeInteger(numel) || (numel as number) < 0) {
          fail(
            `a persistent id's element count must be a non-negative int, received ${kindOf(numel)}`,
          );
        }
        const dtype = STORAGE_DTYPES[(type as Global).name];
        checkStorage(key as string, dtype, numel as number);
        push(new Storage(dtype, key as string, numel as number));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const callee = pop('REDUCE');
        push(call(callee, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); only OrderedDict
        const args = pop('NEWOBJ');
        const cls = pop('NEWOBJ');
        if (!(cls instanceof Global) || cls.qualified !== 'collections.OrderedDict') {
          fail(`refusing NEWOBJ of ${kindOf(cls)}: only collections.OrderedDict is accepted`);
        }
        push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: OrderedDict state (the `_metadata` of a state dict) is accepted and dropped
        const state = pop('BUILD');
        const target = top('BUILD');
        const empty = state === null || (state instanceof Map && state.size === 0);
        if (!(target instanceof Map) && !(target instanceof PthTensor && empty)) {
          fail(`refusing BUILD (setting the state) of a ${kindOf(target)}`);
        }
        if (!(state === null || state instanceof Map || isTuple(state))) {
          fail(`BUILD with a ${kindOf(state)} as state, expected a dict`);
        }
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark('TUPLE')));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: Item[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop('TUPLEn'));
        push(tuple(items));
        break;
      }
      case 0x6c: // LIST
        push(popMark('LIST').map((v) => value(v, 'a list item')));
        break;
      case 0x64: {
        // DICT
        const dict = new Map<PthKey, PthValue>();
        setItems(dict, popMark('DICT'));
        push(dict);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop('APPEND');
        appendItems(top('APPEND'), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        appendItems(top('APPENDS'), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItems(top('SETITEM'), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        setItems(top('SETITEMS'), items);
        break;
      }
      case 0x30: // POP
        if (stack.length > 0 && (marks.length === 0 || marks[marks.length - 1] < stack.length))
          stack.pop();
        else if (marks.length > 0) marks.pop();
        else fail('POP: the stack is empty');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        push(top('DUP'));
        break;
      default: {
        const name = OPCODE_NAMES[op];
        fail(
          name
            ? `opcode ${name} (0x${op.toString(16)}) is not accepted (torch.save writes protocol 2 binary pickles)`
            : `unknown opcode 0x${op.toString(16).padStart(2, '0')}`,
        );
      }
    }
  }
}
