import * as tf from '@tensorflow/tfjs-core';
import { halfToFloat } from './internal/dtypes';
import { define } from './internal/select';

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
      if (
        typeof path !== 'string' ||
        path === '' ||
        /^[a-z][a-z0-9+.-]*:|^[\\/]/i.test(path) ||
        path.split(/[\\/]/).includes('..')
      ) {
        throw new Error(
          `${at}: weightsManifest[${g}] shard path ${JSON.stringify(path)} must be a relative path inside the model directory`,
        );
      }
    }
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
          `${at}: weight ${JSON.stringify(name)}: shape must be non-negative integers, received ${JSON.stringify(weight.shape)}`,
        );
      }
      if (!['float32', 'int32', 'bool'].includes(weight.dtype)) {
        throw new Error(
          `${at}: weight ${JSON.stringify(name)}: dtype ${JSON.stringify(weight.dtype)} is not float32, int32 or bool`,
        );
      }
      const q = weight.quantization;
      if (
        q !== undefined &&
        (q === null || !['uint8', 'uint16', 'float16'].includes(q.dtype) || weight.dtype === 'bool')
      ) {
        throw new Error(
          `${at}: weight ${JSON.stringify(name)}: unknown quantization ${JSON.stringify(weight.quantization)}`,
        );
      }
      bytes +=
        weight.shape.reduce((p, d) => p * d, 1) * BYTES_PER_ELEMENT[q?.dtype ?? weight.dtype];
      if (!Number.isSafeInteger(bytes))
        throw new Error(`${at}: weight ${JSON.stringify(name)}: shape too large`);
    }
    return bytes;
  });
  return { modelJson: json as ModelJson, groupBytes };
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

/** Resolve a shard path against the model.json URL. */
function shardUrl(base: string, path: string): string {
  return new URL(path, base).toString();
}

export interface LoadModelJsonOptions {
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  requestInit?: RequestInit;
}

/**
 * Load a model.json and its shards from a URL (browser, or Node 18+ with fetch). Shard paths
 * are resolved relative to the model.json URL. Returns the model.json and the tensors.
 */
export async function loadModelJsonFromUrl(
  url: string,
  options: LoadModelJsonOptions = {},
): Promise<{ modelJson: ModelJson; tensors: Record<string, tf.Tensor> }> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const response = await fetchFn(url, options.requestInit);
  if (!response.ok)
    throw new Error(`${where(url)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  let json: unknown;
  try {
    json = JSON.parse(await response.text());
  } catch (error) {
    throw new Error(`${where(url)}: not valid JSON (${(error as Error).message})`);
  }
  const base = new URL(
    url,
    (globalThis as { location?: { href: string } }).location?.href,
  ).toString();
  const { modelJson, groupBytes } = validateModelJson(json, url);
  const shards: Uint8Array[][] = [];
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    const parts: Uint8Array[] = [];
    let received = 0;
    for (const path of group.paths) {
      const shard = await fetchFn(shardUrl(base, path), options.requestInit);
      if (!shard.ok)
        throw new Error(
          `${where(url)}: shard ${path}: HTTP ${shard.status} ${shard.statusText}`.trimEnd(),
        );
      const data = new Uint8Array(await shard.arrayBuffer());
      received += data.byteLength;
      if (received > groupBytes[g]) {
        throw new Error(
          `${where(url)}: shard ${path}: the shards of group ${g} hold more than the ${groupBytes[g]} bytes its weights need`,
        );
      }
      parts.push(data);
    }
    shards.push(parts);
  }
  return { modelJson, tensors: decodeModelJsonWeights(modelJson, shards, url) };
}
