import { globalRandom, type RandomState } from '@convkit/backend';
import { LAYER_TYPES, type Module, type ModuleJSON, moduleFromJSON } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { Callback, EpochLogs } from './callback';
import { nodeModules, syncDirectory, writeFileAtomic } from './internal/node-files';
import { readBackOptimizerState } from './internal/read-back';
import { sha256Hex } from './internal/sha256';
import { decodeTensorFile, encodeTensorFile } from './internal/tensor-file';
import type { Schedule, StatefulData, TrainableModel, TrainOptimizer } from './types';

/** The manifest's name inside a checkpoint directory. */
export const CHECKPOINT_MANIFEST = 'checkpoint.json';
const FORMAT = 'convkit-checkpoint';
const VERSION = 1;

/** A file of the checkpoint, as the manifest records it. */
export interface CheckpointFile {
  /** File name inside the checkpoint directory. */
  file: string;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: string;
  bytes: number;
}

/** `checkpoint.json`: everything but the tensors, which live in the safetensors files it names. */
export interface CheckpointManifest {
  format: typeof FORMAT;
  version: number;
  savedAt: string;
  /** Completed epochs: a resumed run starts at this epoch index. */
  epoch: number;
  /** The model's state dict (PyTorch keys, tfjs layouts). */
  weights: CheckpointFile;
  /** The optimizer's state tensors (keys `<variable index>.<name>`), when it has any. */
  optimizerTensors: CheckpointFile | null;
  /** `model.toJSON()`: rebuild with `moduleFromJSON`. */
  architecture: unknown;
  /** `optimizer.stateDict()` with each tensor replaced by `{ "$tensor": key }`. */
  optimizer: unknown;
  schedule: unknown;
  random: { global: RandomState; data: unknown };
  /** `stateDict()` of each stateful callback, by callback name. */
  callbacks: Record<string, unknown>;
  history: EpochLogs[];
  /** The last epoch's logs. */
  metrics: EpochLogs | null;
  extra?: Record<string, unknown>;
}

/** A checkpoint that cannot be read; `file` is the offending file. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`checkpoint ${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

type Stateful = { stateDict?(): unknown; loadStateDict?(state: never): void };
type CallbackSet = ReadonlyMap<string, Callback> | Record<string, Callback>;

export interface SaveCheckpointOptions {
  model: TrainableModel;
  /** Completed epochs. */
  epoch: number;
  optimizer?: TrainOptimizer;
  schedule?: Schedule;
  /** The training data; its `state()` / `getState()` (position, shuffling) is saved when it has one. */
  data?: StatefulData;
  /** Callbacks whose `stateDict()` is saved, by name. */
  callbacks?: CallbackSet;
  history?: EpochLogs[];
  /** Anything else JSON-serializable (run options, class names). */
  extra?: Record<string, unknown>;
}

/**
 * Save a checkpoint into directory `dir` (Node), atomically: the weights and optimizer tensors
 * go to new, uniquely named safetensors files (temp file, fsync, rename), then `checkpoint.json`
 * is replaced the same way, pointing at them with their SHA-256, and only then are the previous
 * files deleted. A process killed at any moment leaves the previous or the new checkpoint whole.
 */
export async function saveCheckpoint(
  dir: string,
  options: SaveCheckpointOptions,
): Promise<CheckpointManifest> {
  const { fs, path } = await nodeModules();
  const { model, optimizer, schedule, data, epoch } = options;
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`saveCheckpoint: expected epoch to be an integer >= 0, received ${epoch}`);
  }
  await fs.mkdir(dir, { recursive: true });
  const tag = `e${String(epoch).padStart(4, '0')}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  const weightsBytes = await encodeTensorFile(model.stateDict(), { format: 'pt' });
  const weights = await writeTracked(dir, `model-${tag}.safetensors`, weightsBytes);

  let optimizerJson: unknown = null;
  let optimizerTensors: CheckpointFile | null = null;
  if (optimizer?.stateDict) {
    const tensors: Record<string, tf.Tensor> = {};
    await readBackOptimizerState(optimizer);
    optimizerJson = extractTensors(optimizer.stateDict(), tensors, []);
    try {
      if (Object.keys(tensors).length > 0) {
        const bytes = await encodeTensorFile(tensors);
        optimizerTensors = await writeTracked(dir, `optimizer-${tag}.safetensors`, bytes);
      }
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  const callbacks: Record<string, unknown> = {};
  for (const [name, c] of entriesOf(options.callbacks)) {
    if (typeof c.stateDict === 'function') callbacks[name] = c.stateDict();
  }
  const history = options.history ?? [];
  const manifest: CheckpointManifest = {
    format: FORMAT,
    version: VERSION,
    savedAt: new Date().toISOString(),
    epoch,
    weights,
    optimizerTensors,
    architecture: typeof model.toJSON === 'function' ? model.toJSON() : null,
    optimizer: optimizerJson,
    schedule: (schedule as Stateful | undefined)?.stateDict?.() ?? null,
    random: {
      global: globalRandom().getState(),
      data: dataState(data),
    },
    callbacks,
    history,
    metrics: history.at(-1) ?? null,
    ...(options.extra ? { extra: options.extra } : {}),
  };
  await writeFileAtomic(
    path.join(dir, CHECKPOINT_MANIFEST),
    `${JSON.stringify(manifest, null, 1)}\n`,
  );

  // The new manifest is durable: files of earlier checkpoints (and temp files of interrupted
  // saves) can go.
  const keep = new Set([weights.file, optimizerTensors?.file, CHECKPOINT_MANIFEST]);
  for (const name of await fs.readdir(dir)) {
    const ours =
      /^(model|optimizer)-.*\.safetensors$/.test(name) ||
      /^\.(model|optimizer|checkpoint).*\.tmp$/.test(name);
    if (ours && !keep.has(name)) await fs.rm(path.join(dir, name), { force: true });
  }
  await syncDirectory(dir);
  return manifest;
}

async function writeTracked(dir: string, file: string, bytes: Uint8Array): Promise<CheckpointFile> {
  const { path } = await nodeModules();
  await writeFileAtomic(path.join(dir, file), bytes);
  return { file, sha256: await sha256Hex(bytes), bytes: bytes.length };
}

export interface LoadCheckpointOptions {
  /** Load the weights into this model; without one, the model is rebuilt from the architecture. */
  model?: TrainableModel;
  /** Layer classes for rebuilding (default: the layers of `@convkit/layers`). */
  moduleTypes?: Readonly<Record<string, new (config: any) => Module>>;
  /** Strict key matching for the model's `loadStateDict` (default true). */
  strict?: boolean;
  optimizer?: TrainOptimizer;
  schedule?: Schedule;
  /** The training data; its `loadState` / `setState` receives the saved state. */
  data?: StatefulData;
  /** Callbacks whose `loadStateDict` receives their saved state, by name. */
  callbacks?: CallbackSet;
  /** Restore the global random stream (default true), so that a resumed run is exact. */
  restoreRandom?: boolean;
}

export interface LoadedCheckpoint {
  model: TrainableModel;
  epoch: number;
  history: EpochLogs[];
  metrics: EpochLogs | null;
  manifest: CheckpointManifest;
}

/**
 * Read the checkpoint in `dir`, verify it (manifest, file sizes, SHA-256, safetensors structure)
 * and restore what is given: model weights, optimizer, schedule, callbacks, data state and the
 * global random stream. Nothing is changed unless the whole checkpoint is valid; a broken one
 * throws a `CheckpointError` naming the file.
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const manifest = await readManifest(dir);
  const { path } = await nodeModules();
  const weightsFile = path.join(dir, manifest.weights.file);
  const weights = decode(weightsFile, await readVerified(dir, manifest.weights));
  let optimizerTensors: Record<string, tf.Tensor> = {};
  try {
    if (manifest.optimizerTensors) {
      const file = path.join(dir, manifest.optimizerTensors.file);
      optimizerTensors = decode(file, await readVerified(dir, manifest.optimizerTensors));
    }
    let model = options.model;
    if (!model) {
      if (manifest.architecture == null) {
        throw new CheckpointError(
          path.join(dir, CHECKPOINT_MANIFEST),
          'has no architecture; pass the model to load the weights into',
        );
      }
      model = moduleFromJSON(
        manifest.architecture as ModuleJSON,
        options.moduleTypes ?? LAYER_TYPES,
      );
    }
    model.loadStateDict(weights, { strict: options.strict ?? true });
    if (options.optimizer?.loadStateDict) {
      if (manifest.optimizer == null) {
        throw new CheckpointError(path.join(dir, CHECKPOINT_MANIFEST), 'holds no optimizer state');
      }
      const dict = insertTensors(
        manifest.optimizer,
        optimizerTensors,
        path.join(dir, CHECKPOINT_MANIFEST),
      );
      options.optimizer.loadStateDict(dict as never);
    }
    if (options.schedule && manifest.schedule != null) {
      (options.schedule as Stateful).loadStateDict?.(manifest.schedule as never);
    }
    for (const [name, c] of entriesOf(options.callbacks)) {
      if (name in manifest.callbacks && typeof c.loadStateDict === 'function') {
        c.loadStateDict(manifest.callbacks[name]);
      }
    }
    if (options.data && manifest.random.data != null) {
      if (typeof options.data.loadState === 'function')
        options.data.loadState(manifest.random.data as never);
      else if (typeof options.data.setState === 'function')
        options.data.setState(manifest.random.data as never);
    }
    if (options.restoreRandom ?? true) globalRandom().setState(manifest.random.global);
    return {
      model,
      epoch: manifest.epoch,
      history: manifest.history,
      metrics: manifest.metrics,
      manifest,
    };
  } finally {
    tf.dispose(Object.values(weights));
    tf.dispose(Object.values(optimizerTensors));
  }
}

/**
 * Check the checkpoint in `dir` without loading it: the manifest parses, and every file it names
 * exists with the recorded size and SHA-256 and is a valid safetensors file. Returns the manifest.
 */
export async function verifyCheckpoint(dir: string): Promise<CheckpointManifest> {
  const manifest = await readManifest(dir);
  const { path } = await nodeModules();
  for (const entry of [manifest.weights, manifest.optimizerTensors]) {
    if (!entry) continue;
    const bytes = await readVerified(dir, entry);
    tf.dispose(Object.values(decode(path.join(dir, entry.file), bytes)));
  }
  return manifest;
}

async function readManifest(dir: string): Promise<CheckpointManifest> {
  const { fs, path } = await nodeModules();
  const file = path.join(dir, CHECKPOINT_MANIFEST);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      file,
      code === 'ENOENT'
        ? 'not found (no checkpoint was saved in this directory)'
        : `cannot be read (${code})`,
    );
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(file, `is not valid JSON (${(error as Error).message})`);
  }
  if (manifest?.format !== FORMAT) {
    throw new CheckpointError(
      file,
      `is not a convkit checkpoint manifest (format ${JSON.stringify(manifest?.format)})`,
    );
  }
  if (manifest.version !== VERSION) {
    throw new CheckpointError(
      file,
      `has version ${manifest.version}; this @convkit/train reads version ${VERSION}`,
    );
  }
  const okFile = (f: CheckpointFile | null) =>
    f === null ||
    (typeof f?.file === 'string' && /^[\w.-]+$/.test(f.file) && typeof f.sha256 === 'string');
  if (
    !okFile(manifest.weights) ||
    manifest.weights === null ||
    !okFile(manifest.optimizerTensors)
  ) {
    throw new CheckpointError(file, 'names no valid weights file');
  }
  if (!Number.isInteger(manifest.epoch) || !manifest.random || !Array.isArray(manifest.history)) {
    throw new CheckpointError(file, 'is incomplete (epoch, random state or history missing)');
  }
  return manifest;
}

async function readVerified(dir: string, entry: CheckpointFile): Promise<Uint8Array> {
  const { fs, path } = await nodeModules();
  const file = path.join(dir, entry.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      file,
      code === 'ENOENT'
        ? `is missing (${CHECKPOINT_MANIFEST} points at it)`
        : `cannot be read (${code})`,
    );
  }
  if (bytes.length !== entry.bytes) {
    throw new CheckpointError(
      file,
      `has ${bytes.length} bytes, the manifest recorded ${entry.bytes}${bytes.length < entry.bytes ? ' (truncated)' : ''}`,
    );
  }
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256) {
    throw new CheckpointError(
      file,
      `SHA-256 mismatch: the manifest recorded ${entry.sha256}, the file hashes to ${hash} (corrupted)`,
    );
  }
  return bytes;
}

function decode(file: string, bytes: Uint8Array): Record<string, tf.Tensor> {
  try {
    return decodeTensorFile(bytes, file).tensors;
  } catch (error) {
    throw new CheckpointError(file, (error as Error).message.replace(`${file}: `, ''));
  }
}

function dataState(data: StatefulData | undefined): unknown {
  if (typeof data?.state === 'function') return data.state();
  if (typeof data?.getState === 'function') return data.getState();
  return null;
}

function entriesOf(callbacks: CallbackSet | undefined): [string, Callback][] {
  if (!callbacks) return [];
  return callbacks instanceof Map ? [...callbacks.entries()] : Object.entries(callbacks);
}

function isSerializedTensor(v: unknown): v is { shape: number[]; data: ArrayLike<number> } {
  if (v == null || typeof v !== 'object') return false;
  const keys = Object.keys(v);
  const o = v as { shape?: unknown; data?: unknown };
  return (
    keys.length === 2 &&
    Array.isArray(o.shape) &&
    (Array.isArray(o.data) || ArrayBuffer.isView(o.data))
  );
}

/** Copy `value`, moving every `{ shape, data }` tensor into `tensors` under its path. */
function extractTensors(value: unknown, tensors: Record<string, tf.Tensor>, at: string[]): unknown {
  if (isSerializedTensor(value)) {
    const key = at.join('.');
    tensors[key] = tf.tensor(value.data as number[], value.shape, 'float32');
    return { $tensor: key };
  }
  if (Array.isArray(value))
    return value.map((v, i) => extractTensors(v, tensors, [...at, String(i)]));
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, extractTensors(v, tensors, [...at, k])]),
    );
  }
  return value;
}

/** The inverse of `extractTensors`. */
function insertTensors(
  value: unknown,
  tensors: Record<string, tf.Tensor>,
  manifest: string,
): unknown {
  if (value != null && typeof value === 'object' && '$tensor' in value) {
    const key = (value as { $tensor: string }).$tensor;
    const t = tensors[key];
    if (!t)
      throw new CheckpointError(
        manifest,
        `refers to optimizer tensor '${key}', which the optimizer file lacks`,
      );
    return { shape: t.shape.slice(), data: Array.from(t.dataSync()) };
  }
  if (Array.isArray(value)) return value.map((v) => insertTensors(v, tensors, manifest));
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, insertTensors(v, tensors, manifest)]),
    );
  }
  return value;
}
