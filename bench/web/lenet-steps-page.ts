/**
 * The page behind `node bench/web-training.mjs`: LeNet-5 (@convkit/zoo) training steps per second
 * with `fit` (Adam, cross-entropy, batch 64 of 28x28x1) on webgpu, wasm and cpu in one page,
 * one backend after another. Inputs are seeded pseudo-random pixels and labels: a step costs
 * the same whatever the values. Leaves `window.__convkitWebBench`.
 */
import { selectBackend } from '@convkit/backend';
import { Adam } from '@convkit/optimizers';
import { fit } from '@convkit/train';
import { lenet5 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';

const BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
const BATCH = 64;
const params = new URLSearchParams(location.search);
const STEPS = Number(params.get('steps') ?? 10);
const WARMUP = 2;

interface BackendResult {
  device?: string;
  stepsPerSecond?: number;
  steps?: number;
  leakedTensors?: number;
  error?: string;
}

/** `count` batches of seeded values; labels are int32 from JS, so they are CPU-resident. */
function batches(count: number, seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  return {
    length: count,
    *[Symbol.iterator]() {
      for (let b = 0; b < count; b++) {
        const x = Float32Array.from({ length: BATCH * 28 * 28 }, () => next() * 2 - 1);
        const y = Int32Array.from({ length: BATCH }, () => Math.floor(next() * 10));
        yield { x: tf.tensor4d(x, [BATCH, 28, 28, 1]), y: tf.tensor1d(y, 'int32') };
      }
    },
  };
}

async function measure(backend: (typeof BACKENDS)[number]): Promise<BackendResult> {
  const wasmPaths = new URL('./', location.href).href;
  const report = await selectBackend({ backend, wasmPaths });
  const before = tf.memory().numTensors;
  const model = lenet5({ numClasses: 10, inChannels: 1 });
  const optimizer = new Adam(model.trainableVariables(), { lr: 1e-3 });
  const options = { optimizer, epochs: 1, loss: 'crossEntropy' as const };
  await fit(model, { ...options, data: batches(WARMUP, 1) }); // compile shaders, warm caches
  const started = performance.now();
  await fit(model, { ...options, data: batches(STEPS, 2) });
  // fit reads each step's loss back, so the last step has finished on the device here.
  const seconds = (performance.now() - started) / 1000;
  optimizer.dispose();
  model.dispose();
  return {
    device: report.device,
    steps: STEPS,
    stepsPerSecond: STEPS / seconds,
    leakedTensors: tf.memory().numTensors - before,
  };
}

async function main() {
  const results: Record<string, BackendResult> = {};
  for (const backend of BACKENDS) {
    try {
      results[backend] = await measure(backend);
    } catch (error) {
      results[backend] = { error: error instanceof Error ? error.message : String(error) };
    }
    console.log(`[bench] ${backend}: ${JSON.stringify(results[backend])}`);
  }
  return { userAgent: navigator.userAgent, results };
}

main().then(
  (result) => {
    (window as any).__convkitWebBench = { done: true, ...result };
  },
  (error) => {
    (window as any).__convkitWebBench = { done: true, error: String(error) };
  },
);
