// Node only: node:fs and node:path are imported at run time inside each function (see atomic-write.ts).
import type * as tf from '@tensorflow/tfjs-core';
import {
  decodeModelJsonWeights,
  type EncodeModelJsonOptions,
  encodeModelJson,
  type ModelJson,
  validateModelJson,
} from '../model-json';
import { importFs, importPath, writeAll, writeFileAtomic } from './atomic-write';

/** model.json files larger than this are refused (a topology is kilobytes to a few megabytes). */
const MAX_MODEL_JSON_BYTES = 100_000_000;

/**
 * Save tensors as `model.json` + weight shards in `directory` (created if needed). Every file is
 * written atomically, shards first and model.json last, so a reader never sees a model.json whose
 * shards are missing. Node only.
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
  for (const shard of shards) {
    await writeFileAtomic(join(directory, shard.path), (handle) => writeAll(handle, shard.data));
  }
  const text = new TextEncoder().encode(`${JSON.stringify(modelJson, null, 2)}\n`);
  await writeFileAtomic(join(directory, 'model.json'), (handle) => writeAll(handle, text));
  return modelJson;
}

/**
 * Load `model.json` and its shards from a directory (or the path of a model.json). The manifest
 * is validated and each shard's size checked against it before its bytes are read. Node only.
 */
export async function loadModelDirectory(
  pathOrDirectory: string,
): Promise<{ modelJson: ModelJson; tensors: Record<string, tf.Tensor> }> {
  const fs = await importFs();
  const { join, dirname } = await importPath();
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
  const shards: Uint8Array[][] = [];
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    const paths = group.paths.map((p) => join(directory, p));
    const sizes = await Promise.all(paths.map(async (p) => (await fs.stat(p)).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== groupBytes[g]) {
      throw new Error(
        `model.json ${file}: weightsManifest[${g}] weights need ${groupBytes[g]} bytes, shards ${group.paths.join(', ')} hold ${total}`,
      );
    }
    shards.push(await Promise.all(paths.map(async (p) => new Uint8Array(await fs.readFile(p)))));
  }
  return { modelJson, tensors: decodeModelJsonWeights(modelJson, shards, file) };
}
