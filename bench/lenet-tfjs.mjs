// One benchmark worker: LeNet-5 training and inference, and a 56x56x64 3x3 convolution forward
// and backward, on one tfjs backend. Prints one JSON line. Run by run.mjs, one process per
// backend, because tfjs's kernel registry is global: unpatched `wasm` and convkit's patched
// `wasm` cannot live in one process.
//   node lenet-tfjs.mjs convkit   -> @convkit/backend selectBackend() (Node default backend;
//                                    BENCH_BACKEND=wasm|webgpu|cuda|... asks for that one)
//   node lenet-tfjs.mjs tfjs-cpu  -> plain @tensorflow/tfjs-backend-cpu
//   node lenet-tfjs.mjs tfjs-wasm -> plain @tensorflow/tfjs-backend-wasm (no convkit kernels)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

const which = process.argv[2];
const budgetSeconds = Number(process.env.BENCH_SECONDS ?? 4);

async function setUp() {
  if (which === 'convkit') {
    const { selectBackend } = await import('@convkit/backend');
    const report = await selectBackend(
      process.env.BENCH_BACKEND ? { backend: process.env.BENCH_BACKEND } : {},
    );
    return { name: `convkit ${report.backend}`, device: report.device };
  }
  // Plain tfjs as a user sets it up: gradients registered by hand (tfjs-core's Node entry has none).
  const require = createRequire(import.meta.url);
  await import('@convkit/backend').then((m) => m.selectBackend({ backend: 'cpu' })); // registers gradients
  if (which === 'tfjs-cpu') return { name: 'tfjs cpu', device: 'JavaScript' };
  if (which === 'tfjs-wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
    await tf.setBackend('wasm');
    await tf.ready();
    return { name: 'tfjs wasm', device: 'WebAssembly (tfjs kernels only)' };
  }
  throw new Error(
    `lenet-tfjs.mjs: unknown backend '${which}' (expected convkit, tfjs-cpu or tfjs-wasm)`,
  );
}

function seeded(shape, scale, seed) {
  let s = seed >>> 0;
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return tf.tensor(values, shape);
}

function lenetWeights() {
  return {
    c1: tf.variable(seeded([5, 5, 1, 6], 0.2, 1)),
    b1: tf.variable(tf.zeros([6])),
    c2: tf.variable(seeded([5, 5, 6, 16], 0.08, 2)),
    b2: tf.variable(tf.zeros([16])),
    f1: tf.variable(seeded([400, 120], 0.05, 3)),
    g1: tf.variable(tf.zeros([120])),
    f2: tf.variable(seeded([120, 84], 0.09, 4)),
    g2: tf.variable(tf.zeros([84])),
    f3: tf.variable(seeded([84, 10], 0.1, 5)),
    g3: tf.variable(tf.zeros([10])),
  };
}

function lenet(w, x) {
  let h = tf.relu(tf.add(tf.conv2d(x, w.c1, 1, 2), w.b1)); // [N, 28, 28, 6]
  h = tf.maxPool(h, 2, 2, 'valid'); // [N, 14, 14, 6]
  h = tf.relu(tf.add(tf.conv2d(h, w.c2, 1, 'valid'), w.b2)); // [N, 10, 10, 16]
  h = tf.maxPool(h, 2, 2, 'valid'); // [N, 5, 5, 16]
  h = tf.reshape(h, [h.shape[0], 400]);
  h = tf.relu(tf.add(tf.matMul(h, w.f1), w.g1));
  h = tf.relu(tf.add(tf.matMul(h, w.f2), w.g2));
  return tf.add(tf.matMul(h, w.f3), w.g3); // [N, 10]
}

/**
 * Median seconds of `fn` over repeated calls within the time budget, after a warm-up; when the
 * first call alone exceeds the budget (tfjs cpu on the big conv), it is the measurement.
 */
async function time(fn) {
  const first = performance.now();
  await fn();
  const firstSeconds = (performance.now() - first) / 1000;
  if (firstSeconds > budgetSeconds) return firstSeconds;
  // Warm-up: at least 2 calls and 1 s, as pytorch_bench.py (the 2-thread backend takes about a
  // second to settle: see packages/zoo/bench/zoo.bench.mjs).
  const warmUntil = performance.now() + 1000;
  do await fn();
  while (performance.now() < warmUntil);
  const samples = [];
  const deadline = performance.now() + budgetSeconds * 1000;
  while (samples.length < 3 || (performance.now() < deadline && samples.length < 200)) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function attempt(label, fn) {
  try {
    return await fn();
  } catch (error) {
    return { error: `${label}: ${error.message.split('\n')[0]}` };
  }
}

const setup = await setUp();
const result = { backend: setup.name, device: setup.device };

const batch = 64;
const w = lenetWeights();
const x = seeded([batch, 28, 28, 1], 1, 6);
const labels = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
const optimizer = tf.train.sgd(0.01);

result.lenetTrain = await attempt('LeNet-5 training', async () => {
  const seconds = await time(async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, lenet(w, x)), true);
    await loss.data();
    loss.dispose();
  });
  return { stepsPerSecond: 1 / seconds };
});
result.lenetInfer = await attempt('LeNet-5 inference', async () => {
  const seconds = await time(async () => {
    const y = tf.tidy(() => tf.softmax(lenet(w, x)));
    await y.data();
    y.dispose();
  });
  return { imagesPerSecond: batch / seconds };
});

// 56x56x64 -> 64, 3x3, stride 1, same padding, batch 8: ResNet's first stage.
const convX = seeded([8, 56, 56, 64], 1, 7);
const convW = seeded([3, 3, 64, 64], 0.05, 8);
const convFlops = 2 * 8 * 56 * 56 * 64 * 64 * 9;
/**
 * Wait for `t` to be computed by reading one element: reading all of it would time a copy of
 * the output to JavaScript (6.4 MB here, with garbage-collection pauses that made the median
 * swing between 50 and 80 GFLOP/s) that PyTorch's loop does not make.
 */
async function computed(t) {
  const one = tf.slice(t, new Array(t.rank).fill(0), new Array(t.rank).fill(1));
  await one.data();
  one.dispose();
}

result.convForward = await attempt('conv forward', async () => {
  const seconds = await time(async () => {
    const y = tf.conv2d(convX, convW, 1, 'same');
    await computed(y);
    y.dispose();
  });
  return { gflops: convFlops / seconds / 1e9 };
});
const dy = seeded([8, 56, 56, 64], 1, 9);
const convAttrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
const kernels = {
  convBackwardInput: () =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropInput',
        { dy, filter: convW },
        { ...convAttrs, inputShape: convX.shape },
      ),
  convBackwardFilter: () =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x: convX, dy },
        { ...convAttrs, filterShape: convW.shape },
      ),
};
for (const [key, run] of Object.entries(kernels)) {
  // Each gradient costs the FLOPs of one forward convolution.
  result[key] = await attempt(key, async () => {
    const seconds = await time(async () => {
      const out = run();
      await computed(out);
      out.dispose();
    });
    return { gflops: convFlops / seconds / 1e9 };
  });
}

console.log(JSON.stringify(result));
