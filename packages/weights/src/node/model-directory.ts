// Node only: node:fs and node:path are imported at run time inside each function (through @convkit/backend's importFs).

import { importFs, importPath, readExactly, writeAll, writeFileAtomic } from '@convkit/backend';
import type * as tf from '@tensorflow/tfjs-core';
import { sha256Hex } from '../internal/sha256';
import {
  decodeModelJsonWeights,
  type EncodeModelJsonOptions,
  encodeModelJson,
  MAX_MODEL_JSON_BYTES,
  type ModelJson,
  validateModelJson,
  verifyShard,
} from '../model-json';

/** Read exactly `size` bytes of `path` (never more, whatever the file has become since its stat). */
async function readFileExactly(
  path: string,
  size: number,
  describe: () => string,
): Promise<Uint8Array> {
  const fs = await importFs();
  const handle = await fs.open(path, 'r');
  try {
    return await readExactly(handle, 0, size, describe);
  } finally {
    await handle.close();
  }
}

/**
 * Save tensors as `model.json` + weight shards in `directory` (created if needed), so that a
 * process killed at any moment leaves the previous model or the new one, never a mix: each shard
 * gets a name of its own (`group1-shard1of3.<first 16 hex digits of its SHA-256>.bin`), written
 * atomically beside the old ones; model.json, which records each shard's size and SHA-256
 * (`shardBytes`, `shardSha256`, verified on load), replaces the old one atomically last; only
 * then are the previous model's shards (and leftovers of interrupted saves) removed. Node only.
 */
export async function saveModelDirectory(
  directory: string,
  tensors: Record<string, tf.Tensor>,
  options: EncodeModelJsonOptions = {},
): Promise<ModelJson> {
  const fs = await importFs();
  const { join } = await importPath();
  const { modelJson, shards } = encodeModelJson(tensors, options);
  await fs.mkdir(directory, { recursive: true });
  const previous = await previousShards(directory);
  const group = modelJson.weightsManifest[0];
  const hashes: string[] = [];
  for (const shard of shards) {
    const hash = await sha256Hex(shard.data);
    if (hash === null) throw new Error('saveModelDirectory: SHA-256 needs Web Crypto');
    hashes.push(hash);
  }
  group.paths = shards.map((s, i) => s.path.replace(/\.bin$/, `.${hashes[i].slice(0, 16)}.bin`));
  group.shardBytes = shards.map((s) => s.data.byteLength);
  group.shardSha256 = hashes;
  for (const [i, shard] of shards.entries()) {
    await writeFileAtomic(join(directory, group.paths[i]), (handle) =>
      writeAll(handle, shard.data),
    );
  }
  const text = new TextEncoder().encode(`${JSON.stringify(modelJson, null, 2)}\n`);
  await writeFileAtomic(join(directory, 'model.json'), (handle) => writeAll(handle, text));

  // The new model.json is durable: the old shards and leftovers of interrupted saves can go.
  const keep = new Set(group.paths);
  const prefix = (options.shardPrefix ?? 'group1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ours = new RegExp(
    `^(${prefix}-shard\\d+of\\d+\\.[0-9a-f]{16}\\.bin|\\.(model\\.json|${prefix}-shard.*\\.bin)\\.\\d+\\.[0-9a-z]+\\.tmp)$`,
  );
  for (const name of await fs.readdir(directory)) {
    if (!keep.has(name) && (previous.has(name) || ours.test(name))) {
      await fs.rm(join(directory, name), { force: true });
    }
  }
  return modelJson;
}

/** The shard files the model.json now in `directory` names (none when it is missing or invalid). */
async function previousShards(directory: string): Promise<Set<string>> {
  const fs = await importFs();
  const { join } = await importPath();
  try {
    const file = join(directory, 'model.json');
    if ((await fs.stat(file)).size > MAX_MODEL_JSON_BYTES) return new Set();
    const { modelJson } = validateModelJson(JSON.parse(await fs.readFile(file, 'utf8')));
    return new Set(modelJson.weightsManifest.flatMap((g) => g.paths));
  } catch {
    return new Set();
  }
}

/**
 * Load `model.json` and its shards from a directory (or the path of a model.json). The manifest
 * is validated and each shard's size checked against it before its bytes are read. Node only.
 */
export async function loadModelDirectory(
  pathOrDirectory: string,
): Promise<{ modelJson: ModelJson; tensors: Record<string, tf.Tensor> }> {
  const fs = await importFs();
  const { join, dirname, resolve, relative, isAbsolute } = await importPath();
  const stat = await fs.stat(pathOrDirectory);
  const file = stat.isDirectory() ? join(pathOrDirectory, 'model.json') : pathOrDirectory;
  const directory = dirname(file);
  const { size } = await fs.stat(file);
  if (size > MAX_MODEL_JSON_BYTES) {
    throw new Error(
      `model.json ${file}: ${size} bytes exceeds the ${MAX_MODEL_JSON_BYTES}-byte limit`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`model.json ${file}: not valid JSON (${(error as Error).message})`);
  }
  const { modelJson, groupBytes } = validateModelJson(json, file);
  const at = `model.json ${file}`;
  const shards: Uint8Array[][] = [];
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    const paths = group.paths.map((p) => {
      const full = resolve(directory, p);
      const inside = relative(directory, full);
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
        throw new Error(`${at}: shard path ${JSON.stringify(p)} leaves the model directory`);
      }
      return full;
    });
    const sizes: number[] = [];
    for (const [i, p] of paths.entries()) {
      let stat: Awaited<ReturnType<typeof fs.stat>>;
      try {
        stat = await fs.stat(p);
      } catch (error) {
        throw new Error(
          `${at}: shard ${JSON.stringify(group.paths[i])} cannot be read (${(error as NodeJS.ErrnoException).code})`,
        );
      }
      if (!stat.isFile()) {
        throw new Error(`${at}: shard ${JSON.stringify(group.paths[i])} is not a regular file`);
      }
      const expected = group.shardBytes?.[i];
      if (expected !== undefined && stat.size !== expected) {
        throw new Error(
          `${at}: shard ${JSON.stringify(group.paths[i])} has ${stat.size} bytes, the manifest records ${expected}${stat.size < expected ? ' (truncated)' : ''}`,
        );
      }
      sizes.push(stat.size);
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== groupBytes[g]) {
      throw new Error(
        `${at}: weightsManifest[${g}] weights need ${groupBytes[g]} bytes, shards ${group.paths.join(', ')} hold ${total}`,
      );
    }
    const parts: Uint8Array[] = [];
    for (const [i, p] of paths.entries()) {
      const bytes = await readFileExactly(
        p,
        sizes[i],
        () => `${at}: shard ${JSON.stringify(group.paths[i])}`,
      );
      await verifyShard(group, i, bytes, at);
      parts.push(bytes);
    }
    shards.push(parts);
  }
  return { modelJson, tensors: decodeModelJsonWeights(modelJson, shards, file) };
}
