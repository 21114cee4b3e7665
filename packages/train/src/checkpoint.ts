import { globalRandom, type RandomState, syncDirectory, writeFileAtomic } from '@convkit/backend';
import { LAYER_TYPES, type ModuleJSON, type ModuleTypes, moduleFromJSON } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { Callback, EpochLogs } from './callback';
import { nodeModules } from './internal/node-files';
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
      global: globalRandom().stateDict(),
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
  moduleTypes?: ModuleTypes;
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
 * global random stream. Nothing is changed unless the whole checkpoint is valid: everything is
 * read and checked first; the optimizer, schedule, callbacks and data (which check their own
 * state) are restored next and put back as they were if a later one refuses; the model's weights
 * (checked before they are written) and the random stream come last. A broken checkpoint throws
 * a `CheckpointError` naming the file, and leaks no tensors (a model rebuilt for the load is
 * disposed when the load fails).
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const manifest = await readManifest(dir);
  const { path } = await nodeModules();
  const manifestFile = path.join(dir, CHECKPOINT_MANIFEST);
  const fail = (problem: string) => new CheckpointError(manifestFile, problem);
  const weightsFile = path.join(dir, manifest.weights.file);
  const weights = decode(weightsFile, await readVerified(dir, manifest.weights));
  let optimizerTensors: Record<string, tf.Tensor> = {};
  let rebuilt: TrainableModel | undefined;
  let loaded = false;
  try {
    if (manifest.optimizerTensors) {
      const file = path.join(dir, manifest.optimizerTensors.file);
      optimizerTensors = decode(file, await readVerified(dir, manifest.optimizerTensors));
    }
    // Everything that can be checked here is checked before anything changes.
    const { optimizer, schedule, data } = options;
    let optimizerState: unknown;
    if (optimizer?.loadStateDict) {
      if (manifest.optimizer == null) throw fail('holds no optimizer state');
      optimizerState = insertTensors(manifest.optimizer, optimizerTensors, fail);
      const saved = (optimizerState as { type?: unknown }).type;
      const own = (optimizer as { name?: unknown }).name;
      if (typeof own === 'string' && saved !== own) {
        throw fail(`holds ${show(saved)} optimizer state, which cannot be loaded into ${own}`);
      }
    }
    let model = options.model;
    if (!model) {
      if (manifest.architecture == null) {
        throw fail('has no architecture; pass the model to load the weights into');
      }
      model = rebuilt = rebuild(manifest.architecture, options.moduleTypes ?? LAYER_TYPES, fail);
    }

    // Restore; each step that fails puts back those before it.
    const undo: (() => void)[] = [];
    const restore = <S>(what: string, before: S, load: () => void, putBack: (s: S) => void) => {
      try {
        load();
      } catch (error) {
        if (error instanceof CheckpointError) throw error;
        throw fail(`${what} could not be restored: ${(error as Error)?.message ?? String(error)}`);
      }
      undo.push(() => putBack(before));
    };
    try {
      if (optimizer?.loadStateDict && optimizerState !== undefined) {
        const load = optimizer.loadStateDict.bind(optimizer) as (s: unknown) => void;
        restore(
          'the optimizer state',
          optimizer.stateDict?.(),
          () => load(optimizerState),
          (s) => {
            if (s !== undefined) load(s);
          },
        );
      }
      const scheduleState = schedule as Stateful | undefined;
      if (scheduleState?.loadStateDict && manifest.schedule != null) {
        const load = scheduleState.loadStateDict.bind(scheduleState) as (s: unknown) => void;
        restore(
          'the schedule state',
          scheduleState.stateDict?.(),
          () => load(manifest.schedule),
          (s) => {
            if (s !== undefined) load(s);
          },
        );
      }
      for (const [name, c] of entriesOf(options.callbacks)) {
        if (Object.hasOwn(manifest.callbacks, name) && typeof c.loadStateDict === 'function') {
          const load = c.loadStateDict.bind(c) as (s: unknown) => void;
          restore(
            `callback ${name}`,
            c.stateDict?.(),
            () => load(manifest.callbacks[name]),
            (s) => {
              if (s !== undefined) load(s);
            },
          );
        }
      }
      if (data && manifest.random.data != null) {
        const load = dataLoader(data);
        if (load) {
          const hasState =
            typeof data.stateDict === 'function' ||
            typeof data.state === 'function' ||
            typeof data.getState === 'function';
          restore(
            'the data state',
            hasState ? dataState(data) : undefined,
            () => load(manifest.random.data),
            (s) => {
              if (s !== undefined) load(s);
            },
          );
        }
      }
      // The model checks every key, shape and dtype before it writes anything.
      try {
        model.loadStateDict(weights, { strict: options.strict ?? true });
      } catch (error) {
        throw new CheckpointError(weightsFile, (error as Error)?.message ?? String(error));
      }
    } catch (error) {
      for (const putBack of undo.reverse()) {
        try {
          putBack();
        } catch {
          // Best effort: the error that stopped the load is the one to report.
        }
      }
      throw error;
    }
    if (options.restoreRandom ?? true) globalRandom().loadStateDict(manifest.random.global);
    loaded = true;
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
    if (!loaded) rebuilt?.dispose?.();
  }
}

/** Modules nested deeper than this in an architecture are refused (real models nest a few levels). */
const MAX_ARCHITECTURE_DEPTH = 256;
/** Modules in an architecture beyond this are refused. */
const MAX_ARCHITECTURE_MODULES = 100_000;
/** JSON nested deeper than this in the optimizer state is refused. */
const MAX_STATE_DEPTH = 64;

/**
 * Rebuild a model from its architecture. The JSON is walked first (without recursion): every
 * module is an object whose `type` is an own key of `types` (so `constructor`, `toString` or
 * `__proto__` are unknown types, not Object's methods), `children` are arrays, and the nesting
 * is bounded. Variables made by a constructor that then fails are disposed.
 */
function rebuild(
  architecture: unknown,
  types: ModuleTypes,
  fail: (problem: string) => CheckpointError,
): TrainableModel {
  const stack: { node: unknown; depth: number; at: string }[] = [
    { node: architecture, depth: 0, at: 'architecture' },
  ];
  for (let count = 0; stack.length > 0; count++) {
    const { node, depth, at } = stack.pop()!;
    if (count >= MAX_ARCHITECTURE_MODULES) {
      throw fail(`architecture has more than ${MAX_ARCHITECTURE_MODULES} modules`);
    }
    if (depth > MAX_ARCHITECTURE_DEPTH) {
      throw fail(
        `architecture nests modules more than ${MAX_ARCHITECTURE_DEPTH} deep (at ${at.slice(0, 60)}...)`,
      );
    }
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw fail(`${at} must be an object {type, config}, received ${show(node)}`);
    }
    const { type, children } = node as { type?: unknown; children?: unknown };
    if (typeof type !== 'string' || !Object.hasOwn(types, type)) {
      throw fail(
        `${at}.type ${show(type)} is not a known module type (expected one of ${Object.keys(types).slice(0, 12).join(', ')}...)`,
      );
    }
    if (children !== undefined) {
      if (!Array.isArray(children)) {
        throw fail(`${at}.children must be an array, received ${show(children)}`);
      }
      children.forEach((child, i) => {
        stack.push({ node: child, depth: depth + 1, at: `${at}.children[${i}]` });
      });
    }
  }
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    // Registered types are convkit models: their outputs are what `fit` handles.
    return moduleFromJSON(architecture as ModuleJSON, types) as TrainableModel;
  } catch (error) {
    for (const [name, variable] of Object.entries(tf.engine().registeredVariables)) {
      if (!before.has(name)) variable.dispose();
    }
    throw fail(`architecture cannot be rebuilt: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** A value for messages, shortened; never throws (a tampered manifest can nest values deeply). */
function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = `${Array.isArray(value) ? 'an array' : `a ${typeof value}`} nested too deeply to show`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
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
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new CheckpointError(
      file,
      `is not a convkit checkpoint manifest (received ${show(manifest)})`,
    );
  }
  if (manifest.format !== FORMAT) {
    throw new CheckpointError(
      file,
      `is not a convkit checkpoint manifest (format ${show(manifest.format)})`,
    );
  }
  if (manifest.version !== VERSION) {
    throw new CheckpointError(
      file,
      `has version ${show(manifest.version)}; this @convkit/train reads version ${VERSION}`,
    );
  }
  const okFile = (f: CheckpointFile | null) =>
    f === null ||
    (f !== undefined &&
      typeof f === 'object' &&
      typeof f.file === 'string' &&
      /^[\w.-]+$/.test(f.file) &&
      f.file !== '.' &&
      f.file !== '..' &&
      typeof f.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(f.sha256) &&
      Number.isSafeInteger(f.bytes) &&
      f.bytes >= 0);
  if (
    !okFile(manifest.weights) ||
    manifest.weights === null ||
    !okFile(manifest.optimizerTensors ?? null)
  ) {
    throw new CheckpointError(file, 'names no valid weights file (file, sha256, bytes)');
  }
  const random = manifest.random as { global?: unknown; data?: unknown } | undefined;
  if (
    !Number.isSafeInteger(manifest.epoch) ||
    manifest.epoch < 0 ||
    random === null ||
    typeof random !== 'object' ||
    !Array.isArray(manifest.history)
  ) {
    throw new CheckpointError(file, 'is incomplete (epoch, random state or history missing)');
  }
  if (!isRandomState(random.global)) {
    throw new CheckpointError(
      file,
      `has an invalid random state: expected { algorithm: 'xoshiro128**', state: [4 integers in [0, 2^32)], spareNormal: number | null }, received ${show(random.global)}`,
    );
  }
  manifest.callbacks ??= {};
  if (typeof manifest.callbacks !== 'object' || Array.isArray(manifest.callbacks)) {
    throw new CheckpointError(
      file,
      `callbacks must be an object, received ${show(manifest.callbacks)}`,
    );
  }
  return manifest;
}

function isRandomState(value: unknown): value is RandomState {
  if (value === null || typeof value !== 'object') return false;
  const { algorithm, state, spareNormal } = value as Record<string, unknown>;
  return (
    algorithm === 'xoshiro128**' &&
    Array.isArray(state) &&
    state.length === 4 &&
    state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32) &&
    (spareNormal === undefined ||
      spareNormal === null ||
      (typeof spareNormal === 'number' && Number.isFinite(spareNormal)))
  );
}

async function readVerified(dir: string, entry: CheckpointFile): Promise<Uint8Array> {
  const { fs, path } = await nodeModules();
  const file = path.join(dir, entry.file);
  let bytes: Uint8Array;
  try {
    // The size first, so a file swapped for a huge one is refused before it is read.
    const { size } = await fs.stat(file);
    if (size !== entry.bytes) {
      throw new CheckpointError(
        file,
        `has ${size} bytes, the manifest recorded ${entry.bytes}${size < entry.bytes ? ' (truncated)' : ''}`,
      );
    }
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
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

/** The data's state loader: `loadStateDict` (the protocol), or `loadState` / `setState`. */
function dataLoader(data: StatefulData): ((state: unknown) => void) | undefined {
  const load = data.loadStateDict ?? data.loadState ?? data.setState;
  return typeof load === 'function' ? (load.bind(data) as (s: unknown) => void) : undefined;
}

/** The data's state: `stateDict()` (the protocol), or the older `state()` / `getState()`. */
function dataState(data: StatefulData | undefined): unknown {
  if (typeof data?.stateDict === 'function') return data.stateDict();
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

/**
 * The inverse of `extractTensors`. `{ $tensor: key }` must name a tensor of the optimizer file
 * (an own key: `__proto__` or `constructor` are missing tensors), and the nesting is bounded.
 */
function insertTensors(
  value: unknown,
  tensors: Record<string, tf.Tensor>,
  fail: (problem: string) => CheckpointError,
  depth = 0,
): unknown {
  if (depth > MAX_STATE_DEPTH)
    throw fail(`optimizer state nests deeper than ${MAX_STATE_DEPTH} levels`);
  if (value != null && typeof value === 'object' && !Array.isArray(value) && '$tensor' in value) {
    const key = (value as { $tensor: unknown }).$tensor;
    if (typeof key !== 'string' || !Object.hasOwn(tensors, key)) {
      throw fail(`refers to optimizer tensor ${show(key)}, which the optimizer file lacks`);
    }
    const t = tensors[key];
    return { shape: t.shape.slice(), data: Array.from(t.dataSync()) };
  }
  if (Array.isArray(value)) return value.map((v) => insertTensors(v, tensors, fail, depth + 1));
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, insertTensors(v, tensors, fail, depth + 1)]),
    );
  }
  return value;
}
