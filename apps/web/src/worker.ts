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
import type { ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { loadFashionMnist } from './fashion-data';
import { idbGet, idbPut } from './idb';
import { imagePixels } from './image-pixels';
import {
  encoderOf,
  inputRange,
  MODELS,
  type ModelSpec,
  modelInput,
  modelSpec,
  resizeGrey,
  SOURCE_SIDE,
} from './models';
import type {
  InspectResult,
  LayerMaps,
  LoadResult,
  ModelSummary,
  Pixels,
  Requests,
  RequestType,
  WorkerEvent,
  WorkerReply,
  WorkerRequest,
} from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const SIDE = SOURCE_SIDE;
/** Fashion-MNIST's classes: the models trained here have ten outputs. */
const FASHION_CLASSES = 10;
/** Test images behind every reported test accuracy (the first ones of the 10 000). */
const TEST_IMAGES = 500;

let report: BackendReport | undefined;
/**
 * The model every view uses: one trained here (LeNet-5, a CIFAR-style ResNet) or a loaded
 * torchvision checkpoint. What differs between them is in its `spec` (models.ts).
 */
interface Current {
  spec: ModelSpec;
  model: ZooModel;
  numClasses: number;
  origin: string;
}
let current: Current | undefined;
let data: Awaited<ReturnType<typeof loadFashionMnist>> | undefined;
let dataLoading: Promise<Awaited<ReturnType<typeof loadFashionMnist>>> | undefined;

// Training control: a pause is a promise the batch callback awaits; stop aborts fit.
let training = false;
let pauseGate: { promise: Promise<void>; release: () => void } | undefined;
let abort: AbortController | undefined;

// Transfer learning state: uploaded examples per class and the trained head.
const examples = new Map<string, Float32Array[]>();
// The head remembers the model whose encoder it was trained on, and the statistics its inputs
// were standardized with.
let head:
  | { module: Module; classes: string[]; model: ZooModel; scaling: FeatureScaling }
  | undefined;

/** A file of public/ (the app's base URL, not the worker script's folder). */
function assetUrl(path: string): string {
  return new URL(`${import.meta.env.BASE_URL}${path}`, scope.location.origin).href;
}

function emit(event: WorkerEvent, transfer: Transferable[] = []): void {
  scope.postMessage(event, transfer);
}

function summary(c: Current): ModelSummary {
  return {
    id: c.spec.id,
    label: c.spec.label,
    trainable: c.spec.trainable,
    numClasses: c.numClasses,
    origin: c.origin,
    input: [c.spec.side, c.spec.side, c.spec.channels],
  };
}

/** Make `next` the model of every view: the old model and the transfer head (its encoder's) go. */
function replaceModel(next: Current): ModelSummary {
  current?.model.dispose();
  current = next;
  disposeHead();
  const model = summary(next);
  emit({ event: 'model', model });
  return model;
}

function checkBackend(): void {
  if (!report) throw new Error('no backend yet: initialize one first');
}

function ensureModel(): Current {
  checkBackend();
  if (!current) {
    replaceModel({
      spec: MODELS.lenet5,
      model: MODELS.lenet5.build(FASHION_CLASSES),
      numClasses: FASHION_CLASSES,
      origin: 'fresh',
    });
  }
  return current as Current;
}

/** Run `fn` with the model in eval mode, then restore its mode. */
async function inEval<T>(model: ZooModel, fn: () => Promise<T>): Promise<T> {
  const wasTraining = model.training;
  model.eval();
  try {
    return await fn();
  } finally {
    model.train(wasTraining);
  }
}

/** Class names of the current model: Fashion-MNIST's for the models trained here. */
async function classNames(c: Current): Promise<string[]> {
  if (c.spec.trainable) {
    const { FASHION_MNIST_CLASSES } = await import('@convkit/data');
    return [...FASHION_MNIST_CLASSES];
  }
  return Array.from({ length: c.numClasses }, (_, k) => `class ${k}`);
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

/** Accuracy on the first test images; null for a model not trained on Fashion-MNIST. */
async function evaluateTest(c: Current, limit = TEST_IMAGES): Promise<number | null> {
  if (!c.spec.trainable) return null;
  const d = await ensureData();
  const n = Math.min(limit, d.test.labels.length);
  let correct = 0;
  await inEval(c.model, async () => {
    for (let start = 0; start < n; start += 250) {
      const count = Math.min(250, n - start);
      const x = modelInput(
        c.spec,
        d.test.images.subarray(start * SIDE * SIDE, (start + count) * SIDE * SIDE),
        count,
      );
      const predicted = tf.tidy(() => tf.argMax(c.model.forward(x) as tf.Tensor, -1));
      const labels = await predicted.data();
      tf.dispose([x, predicted]);
      for (let i = 0; i < count; i++) if (labels[i] === d.test.labels[start + i]) correct++;
    }
  });
  return correct / n;
}

/**
 * The encoder's features of `n` 28x28 images in [0, 1], read back to the CPU: `[n * D]`. In
 * batches, so a large set of examples never holds every activation of a big model at once.
 */
async function encodeAll(c: Current, pixels: Float32Array, n: number): Promise<Float32Array> {
  const encode = await encoderOf(c.spec, c.model);
  const plane = SIDE * SIDE;
  const parts: Float32Array[] = [];
  await inEval(c.model, async () => {
    for (let start = 0; start < n; start += 32) {
      const count = Math.min(32, n - start);
      const x = modelInput(c.spec, pixels.subarray(start * plane, (start + count) * plane), count);
      const features = encode(x);
      parts.push((await features.data()) as Float32Array);
      tf.dispose([x, features]);
    }
  });
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Per-feature mean and standard deviation of the examples a head was trained on. */
interface FeatureScaling {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Standardize each feature with the examples' mean and std. Encoder features are often all
 * positive (after a ReLU) and wide (512 for SqueezeNet): Adam then moves every weight of a
 * hidden unit the same way at once and the head's ReLUs die; centred features train reliably.
 */
function scalingOf(features: Float32Array, width: number): FeatureScaling {
  const n = features.length / width;
  const mean = new Float32Array(width);
  const std = new Float32Array(width);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < width; d++) mean[d] += features[i * width + d] / n;
  for (let i = 0; i < n; i++)
    for (let d = 0; d < width; d++) std[d] += (features[i * width + d] - mean[d]) ** 2 / n;
  // A feature constant over the examples carries nothing: it is only centred.
  for (let d = 0; d < width; d++) std[d] = Math.sqrt(std[d]) || 1;
  return { mean, std };
}

function standardized(features: Float32Array, { mean, std }: FeatureScaling): Float32Array {
  const width = mean.length;
  return features.map((v, i) => (v - mean[i % width]) / std[i % width]);
}

/** Upscale of the input-sized images (input, Grad-CAM, saliency): about 168 pixels wide. */
function displayScale(spec: ModelSpec): number {
  return Math.max(1, Math.round(168 / spec.side));
}

/** Scale of one feature map: about 96 pixels wide, at most 8x. */
function mapScale(side: number): number {
  return Math.max(1, Math.min(8, Math.floor(96 / side)));
}

/** Everything the inspect view shows for input `x` (the model in eval mode). */
async function inspectModel(c: Current, x: tf.Tensor4D, pixels: Pixels): Promise<InspectResult> {
  const { spec, model } = c;
  const vis = await import('@convkit/visualization');
  const logits = tf.tidy(() => tf.softmax(model.forward(x) as tf.Tensor));
  const probabilities = Array.from(await logits.data());
  logits.dispose();
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  const filters: InspectResult['filters'] = [];
  for (const layer of spec.filterLayers) {
    const f = await vis.filterImages(model, { layer, scale: 6, maxOutputs: 16, maxInputs: 6 });
    filters.push({ layer, images: f.images, columns: f.columns });
  }
  const featureMaps: LayerMaps[] = [];
  for (const layer of spec.mapLayers) {
    const maps = vis.featureMaps(model, x, layer);
    const shape = maps.shape;
    maps.dispose();
    const images = await vis.featureMapImages(model, x, {
      layer,
      scale: mapScale(shape[1] ?? 1),
      maxChannels: spec.maxChannels,
    });
    const kind = model.getSubmodule(layer).constructor.name;
    featureMaps.push({ layer, kind, shape, images });
  }
  // The grey image as the network sees it (resized), under the heatmaps.
  const seen = resizeGrey(pixels, SIDE, spec.side);
  const grey = vis.valuesToImage(seen, spec.side, spec.side, 1, {
    range: [0, 1],
    colormap: 'gray',
  });
  const cam = vis.gradCam(model, x, { layer: spec.gradCamLayer, target: predicted });
  const heat = await cam.heatmap.data();
  tf.dispose([cam.weights, cam.cam, cam.heatmap]);
  const sal = vis.saliency(model, x, { target: predicted });
  const salMap = await sal.map.data();
  tf.dispose([sal.gradient, sal.map]);
  const scale = displayScale(spec);
  return {
    classes: await classNames(c),
    probabilities,
    predicted,
    filters,
    featureMaps,
    input: vis.upscale(grey, scale),
    gradCam: vis.upscale(vis.overlayHeatmap(grey, heat, { alpha: 0.55 }), scale),
    gradCamLayer: spec.gradCamLayer,
    saliency: vis.upscale(
      vis.overlayHeatmap(grey, salMap, { alpha: 0.7, colormap: 'viridis' }),
      scale,
    ),
  };
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
    // Carry the model across the switch: its kind, and its weights as plain values.
    const carried = current && {
      ...current,
      values: await Promise.all(
        Object.entries(current.model.stateDict()).map(
          async ([k, t]) =>
            [k, { values: await t.data(), shape: t.shape, dtype: t.dtype }] as const,
        ),
      ),
    };
    current?.model.dispose();
    current = undefined;
    disposeHead();
    report = await selectBackend({
      backend,
      wasmPaths: assetUrl('wasm/'),
    });
    if (carried) {
      const model = carried.spec.build(carried.numClasses, false);
      const state = Object.fromEntries(
        carried.values.map(([k, v]) => [k, tf.tensor(v.values, v.shape, v.dtype)]),
      );
      try {
        model.loadStateDict(state);
      } finally {
        tf.dispose(Object.values(state));
      }
      replaceModel({ ...carried, model });
    }
    return {
      report,
      numTensors: tf.memory().numTensors,
      model: summary(ensureModel()),
      catalogue: Object.values(MODELS).map(({ id, label, trainable }) => ({
        id,
        label,
        trainable,
      })),
    };
  },

  setModel({ model: id }) {
    if (training) throw new Error('setModel: stop training before changing the model');
    const spec = modelSpec(id);
    if (!spec.trainable) {
      throw new Error(
        `setModel: ${spec.id} is loaded from a torchvision checkpoint (weights view), not trained here`,
      );
    }
    checkBackend();
    return replaceModel({
      spec,
      model: spec.build(FASHION_CLASSES),
      numClasses: FASHION_CLASSES,
      origin: 'fresh',
    });
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
    const c = ensureModel();
    if (!c.spec.trainable) {
      throw new Error(
        `train: the current model is ${c.spec.label}, loaded from ${c.origin}; pick a model to train here first`,
      );
    }
    const m = c.model;
    const d = await ensureData();
    const [train, { Adam }] = await Promise.all([
      import('@convkit/train'),
      import('@convkit/optimizers'),
    ]);
    training = true;
    abort = new AbortController();
    emit({ event: 'state', state: 'training' });
    const optimizer = new Adam(m.trainableVariables(), { lr: settings.lr });
    c.origin = 'trained here';
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
            x: modelInput(c.spec, pixels, picked.length),
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
        lastTestAccuracy = (await evaluateTest(c)) ?? Number.NaN;
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
            : ((await evaluateTest(c)) ?? Number.NaN),
      };
    } finally {
      optimizer.dispose();
      if (current === c) emit({ event: 'model', model: summary(c) });
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
    const c = ensureModel();
    const x = modelInput(c.spec, pixels, 1);
    try {
      return await inEval(c.model, () => inspectModel(c, x, pixels));
    } finally {
      x.dispose();
    }
  },

  async reconstruct({ pixels, layer, steps }) {
    checkNotTraining('reconstruct');
    checkPixels(pixels, 'reconstruct');
    const { spec, model } = ensureModel();
    model.getSubmodule(layer); // throws, naming the layer, when it does not exist
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
    const x = modelInput(spec, pixels, 1);
    const range = inputRange(spec);
    try {
      // reconstruct() has no per-step callback: each snapshot reruns the same seeded
      // optimization for more steps, so the snapshots are points of one trajectory.
      for (const count of steps) {
        const result = await vis.reconstruct(model, x, { layer, steps: count, range, seed: 1 });
        // Back to pixels in [0, 1] (per channel), as the input image is shown.
        const pixelsOut = tf.tidy(() =>
          result.image.mul(tf.tensor1d([...spec.std])).add(tf.tensor1d([...spec.mean])),
        );
        const image = await vis.tensorToImage(pixelsOut, { range: [0, 1], colormap: 'gray' });
        tf.dispose([result.image, pixelsOut]);
        emit({
          event: 'reconstruction',
          step: count,
          loss: result.featureLosses[result.featureLosses.length - 1],
          image: vis.upscale(image, displayScale(spec)),
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
    const c = ensureModel();
    const { createHead } = await import('@convkit/transfer');
    const train = await import('@convkit/train');
    const { Adam } = await import('@convkit/optimizers');
    const all: Float32Array[] = [];
    const labels: number[] = [];
    classes.forEach((name, k) => {
      for (const p of examples.get(name) ?? []) {
        all.push(p);
        labels.push(k);
      }
    });
    const pixels = new Float32Array(all.length * SIDE * SIDE);
    all.forEach((p, i) => {
      pixels.set(p, i * SIDE * SIDE);
    });
    // The encoder's outputs (the model without its classifier) for every example, once.
    const raw = await encodeAll(c, pixels, all.length);
    const width = raw.length / all.length;
    const scaling = scalingOf(raw, width);
    const features = standardized(raw, scaling);
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
      head = { module, classes, model: c.model, scaling };
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
    const c = ensureModel();
    if (!head || head.model !== c.model)
      throw new Error('transferPredict: train the new head first');
    const input = file ? await imagePixels(file) : checkPixels(pixels, 'transferPredict');
    const current = head;
    const encoded = standardized(await encodeAll(c, input, 1), current.scaling);
    const features = tf.tensor2d(encoded, [1, encoded.length]);
    current.module.eval();
    const probabilities = tf.tidy(() => tf.softmax(current.module.forward(features) as tf.Tensor));
    const values = Array.from(await probabilities.data());
    tf.dispose([features, probabilities]);
    return { classes: current.classes, probabilities: values };
  },

  async saveIdb({ name }) {
    checkNotTraining('saveIdb');
    const bytes = await safetensorsBytes();
    await idbPut(checkName(name), bytes);
    return { bytes: bytes.length, keys: Object.keys(ensureModel().model.stateDict()).length };
  },

  async loadIdb({ name }) {
    const bytes = await idbGet(checkName(name));
    if (!bytes) throw new Error(`loadIdb: no weights named '${name}' in this browser's IndexedDB`);
    return loadBytes(bytes, `IndexedDB '${name}'`);
  },

  async exportSafetensors() {
    checkNotTraining('exportSafetensors');
    return { bytes: await safetensorsBytes() };
  },

  async importSafetensors({ bytes }) {
    if (!(bytes instanceof Uint8Array)) throw new Error('importSafetensors: expected file bytes');
    return loadBytes(bytes, 'an uploaded safetensors file');
  },

  async importTorchvision({ bytes, file, architecture }) {
    if (training) throw new Error('importTorchvision: stop training before loading a checkpoint');
    if (!(bytes instanceof Uint8Array)) throw new Error('importTorchvision: expected file bytes');
    checkBackend();
    const { loadTorchvisionCheckpoint } = await import('./torchvision-checkpoint');
    // A fresh model, filled completely or not at all: the current one stays until then.
    const loaded = loadTorchvisionCheckpoint(bytes, String(file), architecture);
    const model = replaceModel({
      spec: loaded.spec,
      model: loaded.model,
      numClasses: loaded.numClasses,
      origin: String(file),
    });
    return { keys: loaded.keys, testAccuracy: null, model, format: loaded.format };
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
  const { spec, model, numClasses, origin } = ensureModel();
  const { writeSafetensors } = await import('@convkit/weights');
  // writeSafetensors reads with dataSync: hand it CPU-resident copies.
  const state = await cpuResident(model.stateDict());
  try {
    // The model is recorded so that a file is only ever loaded into the same kind of model.
    return writeSafetensors(state, {
      model: spec.id,
      numClasses: String(numClasses),
      source: spec.trainable ? 'fashion-mnist' : origin,
    });
  } finally {
    tf.dispose(Object.values(state));
  }
}

/** Weights saved by the app (convkit layouts) into the current model, when they are its kind. */
async function loadBytes(bytes: Uint8Array, origin: string): Promise<LoadResult> {
  if (training) throw new Error('stop training before loading weights');
  const c = ensureModel();
  const { readSafetensors } = await import('@convkit/weights');
  const { tensors: state, metadata } = readSafetensors(bytes);
  try {
    if (metadata.model !== c.spec.id) {
      throw new Error(
        `weights: expected weights of ${c.spec.id} (the current model, ${c.spec.label}); received ${metadata.model ? `weights of ${metadata.model}` : 'a file that records no model'} (pick that model first, or load a torchvision checkpoint below)`,
      );
    }
    c.model.loadStateDict(state);
  } finally {
    tf.dispose(Object.values(state));
  }
  c.origin = origin;
  disposeHead();
  emit({ event: 'model', model: summary(c) });
  return {
    keys: Object.keys(state).length,
    testAccuracy: await evaluateTest(c),
    model: summary(c),
  };
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
