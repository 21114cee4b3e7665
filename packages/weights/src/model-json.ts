import * as tf from '@tensorflow/tfjs-core';
import { halfToFloat } from './internal/dtypes';
import { show } from './internal/header';
import { define } from './internal/select';
import { sha256Hex } from './internal/sha256';
import { readBodyAtMost } from './internal/stream';

/** The tfjs dtypes a weights manifest holds. */
export type ManifestDtype = 'float32' | 'int32' | 'bool';

/** One weight of a `tf.io` weights manifest. */
export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: ManifestDtype;
  /** tfjs-converter quantization (read only): values stored as uint8 / uint16 (`v * scale + min`) or float16. */
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** A group of weights stored back to back across `paths` (the shards). */
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
  /**
   * convkit's integrity record (optional, ignored by tfjs): the byte size of each shard of
   * `paths`, checked before and while a shard is read.
   */
  shardBytes?: number[];
  /** convkit's integrity record (optional): the lower-case hex SHA-256 of each shard, verified on load. */
  shardSha256?: string[];
}

/** The `model.json` of tfjs (`tf.io.ModelJSON`), plus convkit's optional architecture. */
export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest: WeightsManifestGroup[];
  /** convkit's architecture (`model.toJSON()`), when saved from a convkit module. */
  convkit?: unknown;
  [key: string]: unknown;
}

export interface EncodeModelJsonOptions {
  /** Largest shard in bytes (default 4 MiB, tfjs-converter's default). */
  shardBytes?: number;
  /** Shard file name prefix (default `group1`: `group1-shard1of3.bin`). */
  shardPrefix?: string;
  format?: string;
  modelTopology?: unknown;
  convkit?: unknown;
}

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function tensorBytes(name: string, tensor: tf.Tensor): Uint8Array {
  const values = tensor.dataSync();
  if (tensor.dtype === 'float32' || tensor.dtype === 'int32') {
    const typed = values as Float32Array | Int32Array;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  if (tensor.dtype === 'bool') return Uint8Array.from(values as Uint8Array, (v) => (v ? 1 : 0));
  throw new Error(
    `model.json: weight ${JSON.stringify(name)} has dtype ${tensor.dtype}, which cannot be written`,
  );
}

/**
 * Build a `model.json` and its weight shards (in memory) from named tensors, in the order given.
 * The weights are stored back to back and cut into shards of at most `shardBytes`, as
 * tfjs-converter does; `tf.loadLayersModel` / `tf.io` loaders read the result.
 */
export function encodeModelJson(
  tensors: Record<string, tf.Tensor>,
  options: EncodeModelJsonOptions = {},
): { modelJson: ModelJson; shards: { path: string; data: Uint8Array }[] } {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isSafeInteger(shardBytes) || shardBytes < 1) {
    throw new Error(`model.json: shardBytes must be a positive integer, received ${shardBytes}`);
  }
  const weights: WeightsManifestEntry[] = [];
  let total = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!['float32', 'int32', 'bool'].includes(tensor.dtype)) {
      throw new Error(
        `model.json: weight ${JSON.stringify(name)} has dtype ${tensor.dtype}, which cannot be written`,
      );
    }
    weights.push({ name, shape: [...tensor.shape], dtype: tensor.dtype as ManifestDtype });
    total += tensor.size * BYTES_PER_ELEMENT[tensor.dtype];
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const prefix = options.shardPrefix ?? 'group1';
  const shards = Array.from({ length: count }, (_, i) => ({
    path: `${prefix}-shard${i + 1}of${count}.bin`,
    data: new Uint8Array(Math.min(shardBytes, total - i * shardBytes)),
  }));
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const bytes = tensorBytes(name, tensor);
    let done = 0;
    while (done < bytes.byteLength) {
      const shard = Math.floor(offset / shardBytes);
      const within = offset - shard * shardBytes;
      const part = Math.min(bytes.byteLength - done, shardBytes - within);
      shards[shard].data.set(bytes.subarray(done, done + part), within);
      done += part;
      offset += part;
    }
  }
  const modelJson: ModelJson = {
    ...(options.format !== undefined ? { format: options.format } : {}),
    generatedBy: '@convkit/weights',
    convertedBy: null,
    ...(options.modelTopology !== undefined ? { modelTopology: options.modelTopology } : {}),
    weightsManifest: [{ paths: shards.map((s) => s.path), weights }],
    ...(options.convkit !== undefined ? { convkit: options.convkit } : {}),
  };
  return { modelJson, shards };
}

/** model.json files larger than this are refused (a topology is kilobytes to a few megabytes). */
export const MAX_MODEL_JSON_BYTES = 100_000_000;

function where(file?: string): string {
  return file ? `model.json ${file}` : 'model.json';
}

/**
 * Check that `json` is a model.json with a well-formed weights manifest; returns it typed, with
 * the byte size of each group. Shard paths must be relative and stay inside the model's
 * directory (no `..`, no absolute paths or URLs).
 */
export function validateModelJson(
  json: unknown,
  file?: string,
): { modelJson: ModelJson; groupBytes: number[] } {
  const at = where(file);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${at}: expected a JSON object`);
  }
  const manifest = (json as ModelJson).weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new Error(`${at}: weightsManifest must be an array of {paths, weights} groups`);
  }
  const names = new Set<string>();
  const groupBytes = manifest.map((group, g) => {
    if (
      group === null ||
      typeof group !== 'object' ||
      !Array.isArray(group.paths) ||
      !Array.isArray(group.weights)
    ) {
      throw new Error(`${at}: weightsManifest[${g}] must be {paths: string[], weights: [...]}`);
    }
    for (const path of group.paths) {
      const problem = shardPathProblem(path);
      if (problem) {
        throw new Error(
          `${at}: weightsManifest[${g}] shard path ${JSON.stringify(path)} must be a relative path inside the model directory (${problem})`,
        );
      }
    }
    checkIntegrity(group, g, at);
    let bytes = 0;
    for (const weight of group.weights) {
      const name = weight?.name;
      if (typeof name !== 'string')
        throw new Error(`${at}: weightsManifest[${g}] has a weight without a name`);
      if (names.has(name)) throw new Error(`${at}: weight ${JSON.stringify(name)} appears twice`);
      names.add(name);
      if (
        !Array.isArray(weight.shape) ||
        !weight.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
      ) {
        throw new Error(
          `${at}: weight ${JSON.stringify(name)}: shape must be non-negative integers, received ${show(weight.shape)}`,
        );
      }
      if (!['float32', 'int32', 'bool'].includes(weight.dtype)) {
        throw new Error(
          `${at}: weight ${JSON.stringify(name)}: dtype ${show(weight.dtype)} is not float32, int32 or bool`,
        );
      }
      const q = weight.quantization;
      if (q !== undefined)
        checkQuantization(q, weight.dtype, `${at}: weight ${JSON.stringify(name)}`);
      bytes +=
        weight.shape.reduce((p, d) => p * d, 1) * BYTES_PER_ELEMENT[q?.dtype ?? weight.dtype];
      if (!Number.isSafeInteger(bytes))
        throw new Error(`${at}: weight ${JSON.stringify(name)}: shape too large`);
    }
    if (group.shardBytes !== undefined) {
      const sum = group.shardBytes.reduce((a: number, b: number) => a + b, 0);
      if (sum !== bytes) {
        throw new Error(
          `${at}: weightsManifest[${g}] shardBytes add up to ${sum}, but its weights need ${bytes} bytes`,
        );
      }
    }
    return bytes;
  });
  return { modelJson: json as ModelJson, groupBytes };
}

/**
 * Why a shard path could leave the model directory once a URL parser or a file system reads
 * it, or null when it cannot: control characters and surrounding spaces (the WHATWG URL parser
 * strips some of them, turning `\n//host` into `//host`), backslashes (read as `/` by URL
 * parsers and Windows), schemes, absolute paths, and `.` / `..` segments spelled with
 * percent-escapes (`%2e%2e`) or encoded slashes (`%2f`).
 */
function shardPathProblem(path: unknown): string | null {
  if (typeof path !== 'string') return `received ${typeof path}`;
  if (path === '') return 'empty';
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) return 'control characters';
  if (path.trim() !== path) return 'leading or trailing spaces';
  if (path.includes('\\')) return 'backslashes';
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return 'a scheme';
  if (path.startsWith('/')) return 'an absolute path';
  for (const segment of path.split(/[?#]/, 1)[0].split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'a malformed percent-escape';
    }
    if (decoded === '..') return 'a ".." segment';
    if (decoded !== segment && (decoded === '.' || /[\\/]/.test(decoded))) {
      return 'an escaped "." or slash';
    }
  }
  return null;
}

function checkIntegrity(group: WeightsManifestGroup, g: number, at: string): void {
  const { shardBytes, shardSha256, paths } = group;
  if (shardBytes !== undefined) {
    if (
      !Array.isArray(shardBytes) ||
      shardBytes.length !== paths.length ||
      !shardBytes.every((b) => Number.isSafeInteger(b) && b >= 0)
    ) {
      throw new Error(
        `${at}: weightsManifest[${g}] shardBytes must be ${paths.length} non-negative integer(s) (one per path), received ${show(shardBytes)}`,
      );
    }
  }
  if (shardSha256 !== undefined) {
    if (
      !Array.isArray(shardSha256) ||
      shardSha256.length !== paths.length ||
      !shardSha256.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
    ) {
      throw new Error(
        `${at}: weightsManifest[${g}] shardSha256 must be ${paths.length} lower-case hex SHA-256 digest(s) (one per path), received ${show(shardSha256)}`,
      );
    }
  }
}

const QUANTIZED = ['uint8', 'uint16', 'float16'];

function checkQuantization(q: unknown, dtype: string, at: string): void {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) {
    throw new Error(
      `${at}: quantization must be an object {dtype, scale, min}, received ${show(q)}`,
    );
  }
  const { dtype: stored, scale, min } = q as Record<string, unknown>;
  if (typeof stored !== 'string' || !QUANTIZED.includes(stored)) {
    throw new Error(
      `${at}: quantization dtype must be uint8, uint16 or float16, received ${show(stored)}`,
    );
  }
  if (dtype === 'bool') throw new Error(`${at}: a bool weight cannot be quantized`);
  for (const [field, value] of [
    ['scale', scale],
    ['min', min],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new Error(
        `${at}: quantization ${field} must be a finite number, received ${show(value)}`,
      );
    }
  }
}

/**
 * Decode the weights of a validated model.json from its shards (`shards[g][i]` is the data of
 * `weightsManifest[g].paths[i]`). The shards of each group must hold exactly the bytes its
 * weights need. Returns new tensors the caller owns.
 */
export function decodeModelJsonWeights(
  modelJson: ModelJson,
  shards: Uint8Array[][],
  file?: string,
): Record<string, tf.Tensor> {
  const { groupBytes } = validateModelJson(modelJson, file);
  const decoded: { entry: WeightsManifestEntry; values: Float32Array | Int32Array | Uint8Array }[] =
    [];
  modelJson.weightsManifest.forEach((group, g) => {
    const parts = shards[g] ?? [];
    if (parts.length !== group.paths.length) {
      throw new Error(
        `${where(file)}: weightsManifest[${g}] lists ${group.paths.length} shard(s), received ${parts.length}`,
      );
    }
    const received = parts.reduce((sum, p) => sum + p.byteLength, 0);
    if (received !== groupBytes[g]) {
      throw new Error(
        `${where(file)}: weightsManifest[${g}] weights need ${groupBytes[g]} bytes, shards ${group.paths.join(', ')} hold ${received}`,
      );
    }
    const data = concatenate(parts, received);
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((p, d) => p * d, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const bytes = data.subarray(offset, offset + count * BYTES_PER_ELEMENT[stored]);
      offset += bytes.byteLength;
      decoded.push({ entry, values: decodeWeight(entry, bytes, count) });
    }
  });
  const tensors: Record<string, tf.Tensor> = {};
  for (const { entry, values } of decoded)
    define(tensors, entry.name, tf.tensor(values, entry.shape, entry.dtype));
  return tensors;
}

function concatenate(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function decodeWeight(
  entry: WeightsManifestEntry,
  bytes: Uint8Array,
  count: number,
): Float32Array | Int32Array | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = entry.quantization;
  if (!q) {
    if (entry.dtype === 'bool') return Uint8Array.from(bytes, (v) => (v ? 1 : 0));
    const out = entry.dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const out = entry.dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  for (let i = 0; i < count; i++) {
    if (q.dtype === 'float16') {
      out[i] = halfToFloat(view.getUint16(i * 2, true));
    } else {
      const raw = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
      out[i] = raw * scale + min;
    }
  }
  return out;
}

export interface LoadModelJsonOptions {
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Sent with model.json and with each shard; shards are only ever fetched from model.json's origin. */
  requestInit?: RequestInit;
  /** Largest model.json accepted, in bytes (default MAX_MODEL_JSON_BYTES, 100 MB). */
  maxModelJsonBytes?: number;
}

/**
 * Resolve each shard path against the model.json URL, then require that the result has the
 * same origin and lies under model.json's directory (checked on the resolved URL, after the
 * URL parser has stripped and decoded what it does). Returns the shard URLs of each group.
 */
function shardUrls(modelJson: ModelJson, base: URL, at: string): URL[][] {
  const directory = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
  return modelJson.weightsManifest.map((group, g) =>
    group.paths.map((path) => {
      let resolved: URL;
      try {
        resolved = new URL(path, base);
      } catch {
        resolved = base;
      }
      if (
        resolved === base ||
        resolved.origin !== base.origin ||
        !resolved.pathname.startsWith(directory) ||
        resolved.pathname.length === directory.length
      ) {
        throw new Error(
          `${at}: weightsManifest[${g}] shard path ${JSON.stringify(path)} resolves to ${JSON.stringify(resolved.href)}, outside ${base.origin}${directory}`,
        );
      }
      return resolved;
    }),
  );
}

/**
 * Check a shard against the manifest's integrity record (when it has one): its size, and its
 * SHA-256 where Web Crypto is available. Throws naming the shard.
 */
export async function verifyShard(
  group: WeightsManifestGroup,
  index: number,
  bytes: Uint8Array,
  at: string,
): Promise<void> {
  const path = JSON.stringify(group.paths[index]);
  const size = group.shardBytes?.[index];
  if (size !== undefined && bytes.byteLength !== size) {
    throw new Error(
      `${at}: shard ${path} has ${bytes.byteLength} bytes, the manifest records ${size}${bytes.byteLength < size ? ' (truncated)' : ''}`,
    );
  }
  const expected = group.shardSha256?.[index];
  if (expected === undefined) return;
  const actual = await sha256Hex(bytes);
  if (actual !== null && actual !== expected) {
    throw new Error(
      `${at}: shard ${path} SHA-256 mismatch: the manifest records ${expected}, the shard hashes to ${actual} (corrupted, or from another save)`,
    );
  }
}

/**
 * Load a model.json and its shards from a URL (browser, or Node 18+ with fetch). Shard paths
 * are resolved relative to the model.json URL and must stay on its origin, under its directory;
 * `requestInit` (credentials) never goes anywhere else. Bodies are read as streams and cut off
 * at the declared sizes (model.json at `maxModelJsonBytes`, each shard at what its weights need),
 * so memory is bounded whatever the server sends. Returns the model.json and the tensors.
 */
export async function loadModelJsonFromUrl(
  url: string,
  options: LoadModelJsonOptions = {},
): Promise<{ modelJson: ModelJson; tensors: Record<string, tf.Tensor> }> {
  const at = where(url);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const maxJson = options.maxModelJsonBytes ?? MAX_MODEL_JSON_BYTES;
  if (!Number.isSafeInteger(maxJson) || maxJson < 1) {
    throw new Error(`${at}: maxModelJsonBytes must be a positive integer, received ${maxJson}`);
  }
  let base: URL;
  try {
    base = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new Error(`${at}: not a valid URL (a relative URL needs a page to resolve against)`);
  }
  const response = await fetchFn(url, options.requestInit);
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    throw new Error(`${at}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  const text = await readBodyAtMost(
    response,
    maxJson,
    (what) => new Error(`${at}: ${what} is larger than the ${maxJson}-byte limit`),
  );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(text));
  } catch (error) {
    throw new Error(`${at}: not valid JSON (${(error as Error).message})`);
  }
  const { modelJson, groupBytes } = validateModelJson(json, url);
  const urls = shardUrls(modelJson, base, at);
  const shards: Uint8Array[][] = [];
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    const parts: Uint8Array[] = [];
    let received = 0;
    for (const [i, path] of group.paths.entries()) {
      const shard = await fetchFn(urls[g][i].href, options.requestInit);
      const name = `shard ${JSON.stringify(path)}`;
      if (!shard.ok) {
        shard.body?.cancel().catch(() => {});
        throw new Error(`${at}: ${name}: HTTP ${shard.status} ${shard.statusText}`.trimEnd());
      }
      const limit = group.shardBytes?.[i] ?? groupBytes[g] - received;
      const data = await readBodyAtMost(
        shard,
        limit,
        (what) =>
          new Error(
            `${at}: ${name}: ${what} is larger than the ${limit} bytes the manifest declares (group ${g} needs ${groupBytes[g]} bytes in all)`,
          ),
      );
      await verifyShard(group, i, data, at);
      received += data.byteLength;
      parts.push(data);
    }
    shards.push(parts);
  }
  return { modelJson, tensors: decodeModelJsonWeights(modelJson, shards, url) };
}
