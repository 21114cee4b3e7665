import { importFs } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { decodeValues, tfDtypeOf } from './internal/dtypes';
import { define } from './internal/select';
import { ALLOWED_GLOBALS, kindOf, unpickle } from './internal/unpickle';
import { crc32, readZip, type ZipEntry } from './internal/zip';
import { type PthDtype, type PthKey, PthTensor, type PthValue } from './pth-value';
import { SAFETENSORS_DTYPES } from './safetensors-format';

export { ALLOWED_GLOBALS as PTH_ALLOWED_GLOBALS };

export interface InspectPthOptions {
  /** A name for error messages (a path or URL). */
  file?: string;
  /** Check each entry's CRC-32 (data.pkl, and every storage read). Default true. */
  verifyChecksums?: boolean;
}

export interface ReadPthOptions extends InspectPthOptions {
  /**
   * The entry of the top-level dict that holds the state dict (`'model'`, `'ema'`). Default:
   * the top-level dict itself when its values are tensors, else the first of `state_dict`,
   * `model_state_dict`, `model` that is a dict of tensors.
   */
  key?: string;
  /** Remove this prefix from every key that has it (`'module.'` of DataParallel). */
  stripPrefix?: string;
  /** Read only these tensors (keys after `stripPrefix`, all of which must exist) or those a predicate accepts. */
  select?: readonly string[] | ((name: string, tensor: PthTensor) => boolean);
  /**
   * The most tensor elements decoded in all (a bound against a hostile file whose tensors view
   * one storage many times with stride 0). Default `4 * archive bytes + 65536`.
   */
  maxElements?: number;
}

/** An unpickled `.pth` archive: the object `torch.save` wrote, with tensors not yet read. */
export interface PthArchive {
  /** The pickled object (tensors as `PthTensor`; may contain cycles if the pickle made some). */
  root: PthValue;
  /** The storages by key: dtype and element count. */
  storages: ReadonlyMap<string, { dtype: PthDtype; size: number }>;
  /** `little` unless the archive's `byteorder` record says `big`. */
  byteOrder: 'little' | 'big';
  /** The archive's top folder (`archive`, or the file's stem for older PyTorch). */
  folder: string;
}

export interface PthContent {
  /** The tensors by key: float32, int32 or bool (the caller owns and disposes them). */
  tensors: Record<string, tf.Tensor>;
  /** The storage dtype each tensor had in the file (`F16`, `I64`, ...). */
  dtypes: Record<string, PthDtype>;
  /** The top-level entry the state dict came from, or null for the top-level dict itself. */
  key: string | null;
  /** Entries of the state dict that are not tensors (e.g. `_extra_state`), by key. */
  skipped: string[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** The pickled magic number that starts a legacy (pre-1.6) torch.save file. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8];
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model'];

function prefix(file?: string): string {
  return file ? `pth ${file}` : 'pth';
}

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

interface Opened {
  archive: PthArchive;
  entries: Map<string, ZipEntry>;
  where: string;
}

function open(bytes: Uint8Array, options: InspectPthOptions): Opened {
  const where = prefix(options.file);
  if (!startsWith(bytes, ZIP_MAGIC)) {
    if (
      startsWith(bytes, LEGACY_MAGIC) ||
      (bytes.byteLength >= 262 && startsWith(bytes, [0x75, 0x73, 0x74, 0x61, 0x72], 257))
    ) {
      throw new Error(
        `${where}: a legacy (pre-1.6, non-zip) torch.save file, which is not read: load it in PyTorch and save it again with torch.save (the zip format is the default since 1.6)`,
      );
    }
    throw new Error(
      `${where}: not a PyTorch zip archive (it starts with ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ') || 'nothing'}, a torch.save file with PK 03 04)`,
    );
  }
  const entries = readZip(bytes, where);
  const names = [...entries.keys()];
  if (names.some((n) => /^[^/]+\/(constants\.pkl$|code\/)/.test(n))) {
    throw new Error(
      `${where}: a TorchScript archive (torch.jit.save), not a torch.save state dict: save model.state_dict() with torch.save instead`,
    );
  }
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new Error(
      `${where}: expected exactly one <folder>/data.pkl in the archive, found ${pickles.length} (entries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`,
    );
  }
  const folder = pickles[0].slice(0, -'/data.pkl'.length);
  const verify = options.verifyChecksums ?? true;
  const pickle = contentOf(entries.get(pickles[0]) as ZipEntry, where, verify);
  let byteOrder: 'little' | 'big' = 'little';
  const order = entries.get(`${folder}/byteorder`);
  if (order) {
    const text = new TextDecoder().decode(contentOf(order, where, verify));
    if (text !== 'little' && text !== 'big') {
      throw new Error(
        `${where}: ${folder}/byteorder is ${JSON.stringify(text.slice(0, 20))}, expected "little" or "big"`,
      );
    }
    byteOrder = text;
  }
  const storages = new Map<string, { dtype: PthDtype; size: number }>();
  const root = unpickle(pickle, `${where}: data.pkl`, (key, dtype, size) => {
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.size !== size) {
        throw new Error(
          `${where}: storage ${JSON.stringify(key)} is declared as ${known.dtype} x ${known.size} and as ${dtype} x ${size}`,
        );
      }
      return;
    }
    const entry = entries.get(`${folder}/data/${key}`);
    if (entry && entry.method !== 0) contentOf(entry, where, false);
    if (!entry) {
      throw new Error(
        `${where}: storage ${JSON.stringify(key.slice(0, 60))} has no entry ${folder}/data/${key.slice(0, 60)} in the archive`,
      );
    }
    const expected = size * SAFETENSORS_DTYPES[dtype];
    if (entry.data.byteLength !== expected) {
      throw new Error(
        `${where}: storage ${JSON.stringify(key)}: ${size} elements of ${dtype} need ${expected} bytes, the entry has ${entry.data.byteLength}`,
      );
    }
    storages.set(key, { dtype, size });
  });
  return { archive: { root, storages, byteOrder, folder }, entries, where };
}

/** The bytes of an entry the reader needs: stored (torch.save never compresses), CRC-checked. */
function contentOf(entry: ZipEntry, where: string, verify: boolean): Uint8Array {
  if (entry.method !== 0) {
    throw new Error(
      `${where}: ${entry.name}: compression method ${entry.method}; only stored entries (method 0, as torch.save writes) are read: re-save the file with torch.save`,
    );
  }
  if (verify) checkCrc(entry, where);
  return entry.data;
}

function checkCrc(entry: ZipEntry, where: string): void {
  const actual = crc32(entry.data);
  if (actual !== entry.crc32) {
    throw new Error(
      `${where}: ${entry.name}: CRC-32 mismatch (the archive declares ${entry.crc32.toString(16).padStart(8, '0')}, the data has ${actual.toString(16).padStart(8, '0')}): the file is corrupted`,
    );
  }
}

/**
 * Unpickle a `.pth` / `.pt` file held in memory (the zip format of `torch.save`) through a
 * restricted unpickler, without reading any tensor data. See `readPth` for what is accepted.
 */
export function inspectPth(
  bytes: ArrayBuffer | Uint8Array,
  options: InspectPthOptions = {},
): PthArchive {
  return open(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), options).archive;
}

function describeTop(root: Map<PthKey, PthValue>): string {
  const shown = [...root.entries()].slice(0, 12).map(([k, v]) => {
    const tensors =
      v instanceof Map ? [...v.values()].filter((x) => x instanceof PthTensor).length : 0;
    return `${JSON.stringify(k)} (${v instanceof Map ? `dict of ${v.size}, ${tensors} tensors` : kindOf(v)})`;
  });
  return `${shown.join(', ')}${root.size > 12 ? ', ...' : ''}`;
}

function hasTensors(value: PthValue | undefined): value is Map<PthKey, PthValue> {
  return value instanceof Map && [...value.values()].some((v) => v instanceof PthTensor);
}

/** Find the state dict: `key`, the root itself, or a conventional checkpoint entry. */
function findStateDict(
  root: PthValue,
  key: string | undefined,
  where: string,
): { dict: Map<PthKey, PthValue>; key: string | null } {
  if (!(root instanceof Map)) {
    throw new Error(
      `${where}: the file holds a ${kindOf(root)}, expected a dict (a state dict or a checkpoint)`,
    );
  }
  if (key !== undefined) {
    const value = root.get(key);
    if (!(value instanceof Map)) {
      throw new Error(
        `${where}: key ${JSON.stringify(key)} ${root.has(key) ? `is a ${kindOf(value)}, not a dict` : 'is not in the top-level dict'}; it has ${describeTop(root)}`,
      );
    }
    return { dict: value, key };
  }
  const values = [...root.values()];
  if (values.some((v) => v instanceof PthTensor) && !values.some((v) => v instanceof Map)) {
    return { dict: root, key: null };
  }
  for (const name of STATE_DICT_KEYS) {
    const value = root.get(name);
    if (hasTensors(value)) return { dict: value, key: name };
  }
  throw new Error(
    `${where}: no state dict found (a dict of tensors at the top or under ${STATE_DICT_KEYS.map((k) => JSON.stringify(k)).join(', ')}); the top-level dict has ${describeTop(root) || 'no entries'}: pass { key }`,
  );
}

function byteSwapped(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  }
  return out;
}

/** Whether a tensor reads its storage row-major and contiguously (strides of size-1 axes are free). */
function isContiguous(t: PthTensor): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

type Values = Float32Array | Int32Array | Uint8Array;

function decodeTensor(
  name: string,
  t: PthTensor,
  opened: Opened,
  verified: Set<string>,
  verify: boolean,
): Values {
  const { entries, archive, where } = opened;
  const entry = entries.get(`${archive.folder}/data/${t.storage}`) as ZipEntry;
  if (verify && !verified.has(t.storage)) {
    checkCrc(entry, where);
    verified.add(t.storage);
  }
  const width = SAFETENSORS_DTYPES[t.dtype];
  const count = t.size;
  const describe = () =>
    `${where}: tensor ${JSON.stringify(name)} (${t.dtype} [${t.shape.join(', ')}])`;
  // The storage elements the tensor reads: [first, last].
  let last = t.storageOffset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.stride[d];
  const first = t.storageOffset;
  const span = count === 0 ? 0 : last - first + 1;
  let raw = entry.data.subarray(first * width, (first + span) * width);
  if (archive.byteOrder === 'big' && width > 1) raw = byteSwapped(raw, width);
  const decoded = decodeValues(raw, t.dtype, span, describe);
  if (count === 0 || isContiguous(t)) return count === span ? decoded : decoded.slice(0, count);
  // Gather a strided view (a transposed or expanded tensor) in row-major order.
  const out = new (decoded.constructor as { new (n: number): Values })(count);
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let i = 0; i < count; i++) {
    out[i] = decoded[source];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      source += t.stride[d];
      if (index[d] < t.shape[d]) break;
      source -= t.stride[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/**
 * Read the state dict of a `.pth` / `.pt` file held in memory: the zip archive `torch.save`
 * writes (PyTorch >= 1.6), with `data.pkl` unpickled by a restricted unpickler that accepts
 * only what `torch.load(weights_only=True)` accepts for tensors and checkpoints, and refuses
 * any other global or call by name. Tensors keep PyTorch's layouts (`OIHW`, `(out, in)`); pass
 * them to `convertStateDict` / the zoo's `loadPyTorchStateDict`. Float storages become
 * float32 (F16 / BF16 exact, F64 rounded), integer ones int32 (int64 range-checked), bool
 * bool. Tensors are created only after every selected tensor decoded (a failure leaks none).
 */
export function readPth(bytes: ArrayBuffer | Uint8Array, options: ReadPthOptions = {}): PthContent {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const opened = open(data, options);
  const { where } = opened;
  const { dict, key } = findStateDict(opened.archive.root, options.key, where);
  const found = new Map<string, PthTensor>();
  const skipped: string[] = [];
  for (const [k, v] of dict) {
    if (typeof k !== 'string') {
      throw new Error(`${where}: a state dict key is a ${kindOf(k)}, expected a str`);
    }
    const name =
      options.stripPrefix && k.startsWith(options.stripPrefix)
        ? k.slice(options.stripPrefix.length)
        : k;
    if (!(v instanceof PthTensor)) {
      skipped.push(name);
      continue;
    }
    if (found.has(name)) {
      throw new Error(
        `${where}: two keys become ${JSON.stringify(name)} after removing the prefix ${JSON.stringify(options.stripPrefix)}`,
      );
    }
    found.set(name, v);
  }
  let chosen: [string, PthTensor][];
  const { select } = options;
  if (select === undefined) chosen = [...found];
  else if (typeof select === 'function') chosen = [...found].filter(([n, t]) => select(n, t));
  else {
    const missing = select.filter((n) => !found.has(n));
    if (missing.length > 0) {
      const names = [...found.keys()];
      throw new Error(
        `${where}: select: ${missing.length} tensor(s) not in the state dict: ${missing.map((n) => JSON.stringify(n)).join(', ')} (it has ${names.length}: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''})`,
      );
    }
    chosen = [...new Set(select)].map((n) => [n, found.get(n) as PthTensor]);
  }
  const maxElements = options.maxElements ?? 4 * data.byteLength + 65536;
  let total = 0;
  for (const [, t] of chosen) total += t.size;
  if (total > maxElements) {
    throw new Error(
      `${where}: the tensors hold ${total} elements in all, more than maxElements ${maxElements} (views that repeat a storage, e.g. stride 0, can claim more than the file holds)`,
    );
  }
  const verify = options.verifyChecksums ?? true;
  const verified = new Set<string>();
  const decoded = chosen.map(([name, t]) => ({
    name,
    t,
    values: decodeTensor(name, t, opened, verified, verify),
  }));
  const tensors: Record<string, tf.Tensor> = {};
  const dtypes: Record<string, PthDtype> = {};
  for (const { name, t, values } of decoded) {
    define(tensors, name, tf.tensor(values, [...t.shape], tfDtypeOf(t.dtype) as 'float32'));
    define(dtypes, name, t.dtype);
  }
  return { tensors, dtypes, key, skipped };
}

/** Read a `.pth` file in Node (the whole file is read: the zip index is at its end). */
export async function readPthFile(
  path: string,
  options: Omit<ReadPthOptions, 'file'> = {},
): Promise<PthContent> {
  const fs = await importFs();
  return readPth(new Uint8Array(await fs.readFile(path)), { ...options, file: path });
}

/** Read a `.pth` file from a `fetch` Response (browser or Node). */
export async function readPthFromResponse(
  response: Response,
  options: ReadPthOptions = {},
): Promise<PthContent> {
  const file = options.file ?? (response.url || undefined);
  if (!response.ok) {
    throw new Error(`${prefix(file)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  return readPth(new Uint8Array(await response.arrayBuffer()), { ...options, file });
}
