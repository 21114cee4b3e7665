/// <reference lib="webworker" />
/**
 * The compute worker: every tensor of the app lives here, so the page stays responsive while
 * a model trains. It answers the requests of protocol.ts. Reads from tensors are asynchronous
 * (`data()`): synchronous reads (`dataSync`) of GPU-resident tensors fail on the webgpu backend
 * inside a worker on SwiftShader. Library code that reads synchronously is only handed tensors
 * whose values are already on the CPU (see `cpuResident` and the batches built from JS arrays).
 */
import { type BackendReport, selectBackend } from '@convkit/backend';
import type { Module } from '@convkit/layers';
import type { Callback } from '@convkit/train';
import type { LeNet5 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { loadFashionMnist } from './fashion-data';
import { idbGet, idbPut } from './idb';
import { imagePixels } from './image-pixels';
import type {
  InspectResult,
  LayerMaps,
  Pixels,
  Requests,
  RequestType,
  WorkerEvent,
  WorkerReply,
  WorkerRequest,
} from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const SIDE = 28;
/** Test images behind every reported test accuracy (the first ones of the 10 000). */
const TEST_IMAGES = 500;

let report: BackendReport | undefined;
let model: LeNet5 | undefined;
let data: Awaited<ReturnType<typeof loadFashionMnist>> | undefined;
let dataLoading: Promise<Awaited<ReturnType<typeof loadFashionMnist>>> | undefined;

// Training control: a pause is a promise the batch callback awaits; stop aborts fit.
let training = false;
let pauseGate: { promise: Promise<void>; release: () => void } | undefined;
let abort: AbortController | undefined;

// Transfer learning state: uploaded examples per class and the trained head.
const examples = new Map<string, Float32Array[]>();
let head: { module: Module; classes: string[] } | undefined;

/** A file of public/ (the app's base URL, not the worker script's folder). */
function assetUrl(path: string): string {
  return new URL(`${import.meta.env.BASE_URL}${path}`, scope.location.origin).href;
}

function emit(event: WorkerEvent, transfer: Transferable[] = []): void {
  scope.postMessage(event, transfer);
}

async function zoo() {
  return import('@convkit/zoo');
}

async function ensureModel(): Promise<LeNet5> {
  if (!report) throw new Error('no backend yet: initialize one first');
  if (!model) {
    const { lenet5 } = await zoo();
    model = lenet5({ numClasses: 10, inChannels: 1 });
  }
  return model;
}

async function ensureData() {
  if (data) return data;
  dataLoading ??= loadFashionMnist(assetUrl('data/fashion-mnist/'));
  emit({ event: 'state', state: 'loading-data' });
  try {
    data = await dataLoading;
  } finally {
    dataLoading = undefined;
    emit({ event: 'state', state: training ? 'training' : 'idle' });
  }
  return data;
}

/**
 * `[N, 28, 28, 1]` normalized with the model's mean / std, from [0, 1] floats or 0..255 bytes.
 * Built from a JS array, so its values are CPU-resident until a kernel uploads them.
 */
function normalized(
  pixels: Float32Array | Uint8Array,
  n: number,
  mean: number,
  std: number,
): tf.Tensor4D {
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < values.length; i++) values[i] = (pixels[i] * scale - mean) / std;
  return tf.tensor4d(values, [n, SIDE, SIDE, 1]);
}

function checkPixels(pixels: unknown, where: string): Float32Array {
  if (!(pixels instanceof Float32Array) || pixels.length !== SIDE * SIDE) {
    throw new Error(
      `${where}: expected a 28x28 image (784 values in [0, 1]); received ${pixels instanceof Float32Array ? `${pixels.length} values` : typeof pixels}`,
    );
  }
  return pixels;
}

/** State dict of the model with every value read back asynchronously (CPU-resident copies). */
async function cpuResident(state: Record<string, tf.Tensor>): Promise<Record<string, tf.Tensor>> {
  const out: Record<string, tf.Tensor> = {};
  for (const [key, t] of Object.entries(state)) {
    const values = await t.data();
    out[key] = tf.tensor(values, t.shape, t.dtype);
    // The fresh tensor's values sit on the CPU until a kernel uploads them: sync reads are safe.
  }
  return out;
}

async function evaluateTest(m: LeNet5, limit = TEST_IMAGES): Promise<number> {
  const d = await ensureData();
  const n = Math.min(limit, d.test.labels.length);
  const [mean, std] = [m.info.mean[0], m.info.std[0]];
  let correct = 0;
  m.eval();
  for (let start = 0; start < n; start += 250) {
    const count = Math.min(250, n - start);
    const x = normalized(
      d.test.images.subarray(start * SIDE * SIDE, (start + count) * SIDE * SIDE),
      count,
      mean,
      std,
    );
    const predicted = tf.tidy(() => tf.argMax(m.forward(x) as tf.Tensor, -1));
    const labels = await predicted.data();
    tf.dispose([x, predicted]);
    for (let i = 0; i < count; i++) if (labels[i] === d.test.labels[start + i]) correct++;
  }
  m.train();
  return correct / n;
}

/**
 * Requests that read or change the model wait for no one: while fit runs they would interleave
 * with its optimizer steps at every await. They are refused unless training is paused (the
 * batch callback then holds fit between two steps).
 */
function checkNotTraining(what: string): void {
  if (training && !pauseGate)
    throw new Error(`${what}: training is running; pause or stop it first`);
}

type Handler<K extends RequestType> = (
  req: Requests[K]['req'],
) => Promise<Requests[K]['res']> | Requests[K]['res'];

const handlers: { [K in RequestType]: Handler<K> } = {
  async init({ backend }) {
    if (training) throw new Error('stop training before switching the backend');
    // Carry the trained weights across the switch as plain values.
    const saved = model
      ? Object.fromEntries(
          await Promise.all(
            Object.entries(model.stateDict()).map(
              async ([k, t]) =>
                [k, { values: await t.data(), shape: t.shape, dtype: t.dtype }] as const,
            ),
          ),
        )
      : undefined;
    model?.dispose();
    model = undefined;
    disposeHead();
    report = await selectBackend({
      backend,
      wasmPaths: assetUrl('wasm/'),
    });
    const m = await ensureModel();
    if (saved) {
      const state = Object.fromEntries(
        Object.entries(saved).map(([k, v]) => [k, tf.tensor(v.values, v.shape, v.dtype)]),
      );
      m.loadStateDict(state);
      tf.dispose(Object.values(state));
    }
    return { report, numTensors: tf.memory().numTensors };
  },

  async train(settings) {
    if (training) throw new Error('already training');
    for (const [name, value, lo, hi] of [
      ['epochs', settings.epochs, 1, 50],
      ['batchSize', settings.batchSize, 1, 1024],
      ['samples', settings.samples, 1, 60000],
    ] as const) {
      if (!Number.isInteger(value) || value < lo || value > hi) {
        throw new Error(`train: ${name} must be an integer in [${lo}, ${hi}]; received ${value}`);
      }
    }
    if (!(settings.lr > 0 && settings.lr < 1)) {
      throw new Error(`train: lr must be in (0, 1); received ${settings.lr}`);
    }
    const m = await ensureModel();
    const d = await ensureData();
    const [train, { Adam }] = await Promise.all([
      import('@convkit/train'),
      import('@convkit/optimizers'),
    ]);
    training = true;
    abort = new AbortController();
    emit({ event: 'state', state: 'training' });
    const optimizer = new Adam(m.trainableVariables(), { lr: settings.lr });
    const [mean, std] = [m.info.mean[0], m.info.std[0]];
    const { samples, batchSize } = settings;
    const batches = Math.ceil(samples / batchSize);
    let epochSeed = 0;
    // Batches are built from JS arrays, so their labels are CPU-resident when crossEntropy
    // checks them synchronously (@convkit/losses checkClassTargets reads with dataSync).
    const source = {
      length: batches,
      *[Symbol.iterator]() {
        const order = shuffledIndices(samples, ++epochSeed);
        for (let b = 0; b < batches; b++) {
          const picked = order.subarray(b * batchSize, Math.min(samples, (b + 1) * batchSize));
          const pixels = new Uint8Array(picked.length * SIDE * SIDE);
          const labels = new Int32Array(picked.length);
          picked.forEach((index, i) => {
            pixels.set(
              d.train.images.subarray(index * SIDE * SIDE, (index + 1) * SIDE * SIDE),
              i * SIDE * SIDE,
            );
            labels[i] = d.train.labels[index];
          });
          yield {
            x: normalized(pixels, picked.length, mean, std),
            y: tf.tensor1d(labels, 'int32'),
          };
        }
      },
    };
    let steps = 0;
    let lastTestAccuracy: number | undefined;
    const started = performance.now();
    const progress: Callback = {
      async onBatchEnd(logs) {
        steps++;
        emit({
          event: 'batch',
          epoch: logs.epoch,
          batch: logs.batch,
          batches,
          loss: logs.loss,
          accuracy: logs.running.metrics.accuracy ?? Number.NaN,
          stepsPerSecond: steps / ((performance.now() - started) / 1000),
        });
        if (pauseGate) {
          emit({ event: 'state', state: 'paused' });
          await pauseGate.promise;
          emit({ event: 'state', state: 'training' });
        }
      },
      async onEpochEnd(logs) {
        lastTestAccuracy = await evaluateTest(m);
        emit({
          event: 'epoch',
          epoch: logs.epoch,
          loss: logs.loss,
          accuracy: logs.metrics.accuracy ?? Number.NaN,
          valAccuracy: lastTestAccuracy,
        });
      },
    };
    try {
      const result = await train.fit(m, {
        data: source,
        optimizer,
        epochs: settings.epochs,
        loss: 'crossEntropy',
        metrics: ['accuracy'],
        callbacks: [progress],
        signal: abort.signal,
      });
      const seconds = (performance.now() - started) / 1000;
      return {
        stopReason: result.stopReason,
        steps,
        seconds,
        testAccuracy:
          result.stopReason === 'completed' && lastTestAccuracy !== undefined
            ? lastTestAccuracy
            : await evaluateTest(m),
      };
    } finally {
      optimizer.dispose();
      training = false;
      pauseGate?.release();
      pauseGate = undefined;
      abort = undefined;
      emit({ event: 'state', state: 'idle' });
    }
  },

  pause() {
    if (!training) throw new Error('pause: nothing is training');
    if (!pauseGate) {
      let release = () => {};
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      pauseGate = { promise, release };
    }
    return { paused: true };
  },

  resume() {
    if (!training) throw new Error('resume: nothing is training');
    pauseGate?.release();
    pauseGate = undefined;
    return { paused: false };
  },

  stop() {
    if (!training || !abort) throw new Error('stop: nothing is training');
    abort.abort();
    pauseGate?.release();
    pauseGate = undefined;
    return { stopping: true };
  },

  async testImages({ count }) {
    if (!Number.isInteger(count) || count < 1 || count > 100) {
      throw new Error(`testImages: count must be an integer in [1, 100]; received ${count}`);
    }
    const d = await ensureData();
    const { FASHION_MNIST_CLASSES } = await import('@convkit/data');
    const images: Pixels[] = [];
    const labels: number[] = [];
    for (let i = 0; i < count; i++) {
      images.push(
        Float32Array.from(
          d.test.images.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE),
          (v) => v / 255,
        ),
      );
      labels.push(d.test.labels[i]);
    }
    return { images, labels, classes: [...FASHION_MNIST_CLASSES] };
  },

  async inspect({ pixels }) {
    checkNotTraining('inspect');
    checkPixels(pixels, 'inspect');
    const m = await ensureModel();
    const vis = await import('@convkit/visualization');
    const [mean, std] = [m.info.mean[0], m.info.std[0]];
    const x = normalized(pixels, 1, mean, std);
    m.eval();
    try {
      const logits = tf.tidy(() => tf.softmax(m.forward(x) as tf.Tensor));
      const probabilities = Array.from(await logits.data());
      logits.dispose();
      const predicted = probabilities.indexOf(Math.max(...probabilities));
      const filters: InspectResult['filters'] = [];
      for (const layer of ['features.0', 'features.3']) {
        const f = await vis.filterImages(m, { layer, scale: 6, maxOutputs: 16, maxInputs: 6 });
        filters.push({ layer, images: f.images, columns: f.columns });
      }
      const featureMaps: LayerMaps[] = [];
      for (const [name, module] of m.namedModules()) {
        if (!name.startsWith('features.')) continue;
        const images = await vis.featureMapImages(m, x, { layer: name, scale: 4 });
        const maps = vis.featureMaps(m, x, name);
        featureMaps.push({ layer: name, kind: module.constructor.name, shape: maps.shape, images });
        maps.dispose();
      }
      const grey = vis.valuesToImage(pixels, SIDE, SIDE, 1, { range: [0, 1], colormap: 'gray' });
      const cam = vis.gradCam(m, x, { layer: 'features.3', target: predicted });
      const heat = await cam.heatmap.data();
      tf.dispose([cam.weights, cam.cam, cam.heatmap]);
      const sal = vis.saliency(m, x, { target: predicted });
      const salMap = await sal.map.data();
      tf.dispose([sal.gradient, sal.map]);
      return {
        probabilities,
        predicted,
        filters,
        featureMaps,
        input: vis.upscale(grey, 6),
        gradCam: vis.upscale(vis.overlayHeatmap(grey, heat, { alpha: 0.55 }), 6),
        saliency: vis.upscale(
          vis.overlayHeatmap(grey, salMap, { alpha: 0.7, colormap: 'viridis' }),
          6,
        ),
      };
    } finally {
      x.dispose();
      m.train();
    }
  },

  async reconstruct({ pixels, layer, steps }) {
    checkNotTraining('reconstruct');
    checkPixels(pixels, 'reconstruct');
    const m = await ensureModel();
    m.getSubmodule(layer); // throws, naming the layer, when it does not exist
    if (
      !Array.isArray(steps) ||
      steps.length === 0 ||
      steps.some((s) => !Number.isInteger(s) || s < 1 || s > 500)
    ) {
      throw new Error(
        `reconstruct: steps must be integers in [1, 500]; received ${JSON.stringify(steps)}`,
      );
    }
    const vis = await import('@convkit/visualization');
    const [mean, std] = [m.info.mean[0], m.info.std[0]];
    const x = normalized(pixels, 1, mean, std);
    const range: [number, number] = [(0 - mean) / std, (1 - mean) / std];
    try {
      // reconstruct() has no per-step callback: each snapshot reruns the same seeded
      // optimization for more steps, so the snapshots are points of one trajectory.
      for (const count of steps) {
        const result = await vis.reconstruct(m, x, { layer, steps: count, range, seed: 1 });
        const image = await vis.tensorToImage(result.image, { range, colormap: 'gray' });
        result.image.dispose();
        emit({
          event: 'reconstruction',
          step: count,
          loss: result.featureLosses[result.featureLosses.length - 1],
          image: vis.upscale(image, 6),
        });
      }
      return { done: true };
    } finally {
      x.dispose();
    }
  },

  async transferAdd({ label, files }) {
    const name = String(label ?? '').trim();
    if (!name) throw new Error('transferAdd: give the class a name');
    if (!Array.isArray(files) || files.length === 0)
      throw new Error('transferAdd: no images given');
    const list = examples.get(name) ?? [];
    for (const file of files) list.push(await imagePixels(file));
    examples.set(name, list);
    disposeHead();
    return { counts: counts() };
  },

  transferClear() {
    examples.clear();
    disposeHead();
    return { counts: counts() };
  },

  async transferTrain({ epochs }) {
    checkNotTraining('transferTrain');
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 500) {
      throw new Error(`transferTrain: epochs must be an integer in [1, 500]; received ${epochs}`);
    }
    const classes = [...examples.keys()];
    if (classes.length < 2) {
      throw new Error(
        `transferTrain: add images for at least two classes (have ${classes.length})`,
      );
    }
    const m = await ensureModel();
    const { cacheFeatures, createHead, encoderWidth } = await import('@convkit/transfer');
    const train = await import('@convkit/train');
    const { Adam } = await import('@convkit/optimizers');
    const [mean, std] = [m.info.mean[0], m.info.std[0]];
    const all: Float32Array[] = [];
    const labels: number[] = [];
    classes.forEach((c, k) => {
      for (const p of examples.get(c) ?? []) {
        all.push(p);
        labels.push(k);
      }
    });
    const pixels = new Float32Array(all.length * SIDE * SIDE);
    all.forEach((p, i) => {
      pixels.set(p, i * SIDE * SIDE);
    });
    // The trained encoder's outputs (the classifier's input, 400 wide) for every example, once.
    // cacheFeatures leaves the batches of an array to the caller.
    const batch = { x: normalized(pixels, all.length, mean, std), y: tf.tensor1d(labels, 'int32') };
    const cache = await cacheFeatures(m, [batch]).finally(() => tf.dispose([batch.x, batch.y]));
    const features = await cache.features.data();
    const width = encoderWidth(m);
    tf.dispose([cache.features, cache.labels]);
    disposeHead();
    const module = createHead(width, classes.length, { hidden: [32] });
    // One batch of the cached features, rebuilt from CPU values each epoch so that the loss's
    // synchronous target check reads CPU-resident labels (see the file comment).
    const source = {
      length: 1,
      *[Symbol.iterator]() {
        yield {
          x: tf.tensor2d(features, [all.length, width]),
          y: tf.tensor1d(labels, 'int32'),
        };
      },
    };
    const optimizer = new Adam(module.trainableVariables(), { lr: 0.01 });
    try {
      const result = await train.fit(module, {
        data: source,
        optimizer,
        epochs,
        loss: 'crossEntropy',
        metrics: ['accuracy'],
      });
      head = { module, classes };
      return {
        losses: result.history.map((h) => h.loss),
        accuracy: result.history[result.history.length - 1].metrics.accuracy,
        classes,
      };
    } catch (error) {
      module.dispose();
      throw error;
    } finally {
      optimizer.dispose();
    }
  },

  async transferPredict({ pixels, file }) {
    checkNotTraining('transferPredict');
    if (!head) throw new Error('transferPredict: train the new head first');
    const m = await ensureModel();
    const input = file ? await imagePixels(file) : checkPixels(pixels, 'transferPredict');
    const [mean, std] = [m.info.mean[0], m.info.std[0]];
    const x = normalized(input, 1, mean, std);
    m.eval();
    head.module.eval();
    const current = head;
    const { createFeatureExtractor } = await import('@convkit/transfer');
    // The same encoder output cacheFeatures kept: the input of LeNet-5's classifier
    // (info.classifier 'classifier.4'), i.e. the output of the ReLU before it.
    const encoder = createFeatureExtractor(m, { 'classifier.3': 'features' });
    const probabilities = tf.tidy(() =>
      tf.softmax(current.module.forward(encoder.forward(x).features) as tf.Tensor),
    );
    const values = Array.from(await probabilities.data());
    tf.dispose([x, probabilities]);
    m.train();
    return { classes: head.classes, probabilities: values };
  },

  async saveIdb({ name }) {
    checkNotTraining('saveIdb');
    const bytes = await safetensorsBytes();
    await idbPut(checkName(name), bytes);
    return { bytes: bytes.length, keys: Object.keys((await ensureModel()).stateDict()).length };
  },

  async loadIdb({ name }) {
    const bytes = await idbGet(checkName(name));
    if (!bytes) throw new Error(`loadIdb: no weights named '${name}' in this browser's IndexedDB`);
    return loadBytes(bytes);
  },

  async exportSafetensors() {
    checkNotTraining('exportSafetensors');
    return { bytes: await safetensorsBytes() };
  },

  async importSafetensors({ bytes }) {
    if (!(bytes instanceof Uint8Array)) throw new Error('importSafetensors: expected file bytes');
    return loadBytes(bytes);
  },

  memory() {
    return { numTensors: tf.memory().numTensors, backend: tf.getBackend() };
  },
};

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[\w .-]{1,64}$/.test(name)) {
    throw new Error(
      `weights: a name is 1 to 64 letters, digits, spaces, dots, dashes or underscores; received ${JSON.stringify(name)}`,
    );
  }
  return name;
}

async function safetensorsBytes(): Promise<Uint8Array> {
  if (training) throw new Error('stop training before saving the weights');
  const m = await ensureModel();
  const { writeSafetensors } = await import('@convkit/weights');
  // writeSafetensors reads with dataSync: hand it CPU-resident copies.
  const state = await cpuResident(m.stateDict());
  try {
    return writeSafetensors(state, { model: 'lenet5', dataset: 'fashion-mnist' });
  } finally {
    tf.dispose(Object.values(state));
  }
}

async function loadBytes(bytes: Uint8Array): Promise<{ keys: number; testAccuracy: number }> {
  if (training) throw new Error('stop training before loading weights');
  const m = await ensureModel();
  const { readSafetensors } = await import('@convkit/weights');
  const { tensors: state } = readSafetensors(bytes);
  try {
    m.loadStateDict(state);
  } finally {
    tf.dispose(Object.values(state));
  }
  disposeHead();
  return { keys: Object.keys(state).length, testAccuracy: await evaluateTest(m) };
}

function disposeHead(): void {
  head?.module.dispose();
  head = undefined;
}

function counts(): Record<string, number> {
  return Object.fromEntries([...examples].map(([k, v]) => [k, v.length]));
}

function shuffledIndices(n: number, seed: number): Int32Array {
  let a = seed >>> 0;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = a % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

scope.onmessage = async (message: MessageEvent<WorkerRequest>) => {
  const { id, type, ...req } = message.data;
  let reply: WorkerReply;
  try {
    const handler = handlers[type] as Handler<typeof type> | undefined;
    if (!handler) throw new Error(`unknown request '${type}'`);
    const result = await handler(req as never);
    reply = { id, ok: true, result, numTensors: tf.memory().numTensors };
  } catch (error) {
    const text = (error as Error).message ?? String(error);
    reply = { id, ok: false, error: text, numTensors: tf.memory().numTensors };
  }
  scope.postMessage(reply);
};
