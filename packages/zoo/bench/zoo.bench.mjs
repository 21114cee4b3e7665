// Model benchmarks: convkit zoo vs the equivalent @tensorflow/tfjs-layers model on the same
// backend (wasm by default). Not part of the test suite. Run from the repository root:
//
//   node packages/zoo/bench/zoo.bench.mjs [backend] [timed runs per row]
//
// Rows: ResNet-18 and MobileNetV2 inference (eval mode) at 224x224, batch 1 and 8; CIFAR
// ResNet-20 training steps at 32x32, batch 128 (forward, softmax cross-entropy, backward, SGD
// update with tf.train.sgd, BatchNorm in training mode). tfjs-layers models use the functional
// API ('same' padding, add layers); the CIFAR ResNet there uses option-B (1x1 conv) shortcuts,
// since option A (subsample + zero-pad channels) is not expressible with built-in layers:
// convkit is measured with both. The PyTorch peer is zoo_torch.py. The zoo sources are bundled
// by @convkit/tooling's importForBench (tfjs and the other @convkit packages external).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importForBench } from '@convkit/tooling/bench';

const zoo = await importForBench(dirname(fileURLToPath(import.meta.url)), [
  "export * from '../src/index.ts';",
  "export * as tf from '@tensorflow/tfjs-core';",
  "export * as tfl from '@tensorflow/tfjs-layers';",
  "export { selectBackend } from '@convkit/backend';",
]);
const { tf, tfl } = zoo;

const backend = process.argv[2] ?? 'wasm';
const RUNS = Number(process.argv[3] ?? 3);
// ZOO_BENCH_PEERS=0 times convkit only (bench/threads.mjs compares thread counts, not libraries).
const withPeers = process.env.ZOO_BENCH_PEERS !== '0';
await zoo.selectBackend({ backend });

// ---------------------------------------------------------------- tfjs-layers equivalents

const bn = (h) => tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h);
const conv = (h, filters, kernelSize, strides = 1, useBias = false) =>
  tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias }).apply(h);
const relu = (h) => tfl.layers.reLU().apply(h);
const relu6 = (h) => tfl.layers.reLU({ maxValue: 6 }).apply(h);

function tflResnet18(numClasses = 1000) {
  const input = tfl.input({ shape: [224, 224, 3] });
  let h = relu(bn(conv(input, 64, 7, 2)));
  h = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h);
  let channels = 64;
  for (const [planes, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    for (let b = 0; b < 2; b++) {
      const s = b === 0 ? stride : 1;
      let identity = h;
      if (s !== 1 || channels !== planes) identity = bn(conv(h, planes, 1, s));
      let o = relu(bn(conv(h, planes, 3, s)));
      o = bn(conv(o, planes, 3));
      h = relu(tfl.layers.add().apply([o, identity]));
      channels = planes;
    }
  }
  h = tfl.layers.globalAveragePooling2d({}).apply(h);
  h = tfl.layers.dense({ units: numClasses }).apply(h);
  return tfl.model({ inputs: input, outputs: h });
}

function makeDivisible(v) {
  let r = Math.max(8, Math.floor((v + 4) / 8) * 8);
  if (r < 0.9 * v) r += 8;
  return r;
}

function tflMobilenetV2(numClasses = 1000) {
  const input = tfl.input({ shape: [224, 224, 3] });
  let h = relu6(bn(conv(input, 32, 3, 2)));
  let channels = 32;
  const settings = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, n, s] of settings) {
    const output = makeDivisible(c);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      let o = h;
      if (t !== 1) o = relu6(bn(conv(o, Math.round(channels * t), 1)));
      o = tfl.layers
        .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false })
        .apply(o);
      o = bn(conv(relu6(bn(o)), output, 1));
      h = stride === 1 && channels === output ? tfl.layers.add().apply([h, o]) : o;
      channels = output;
    }
  }
  h = relu6(bn(conv(h, 1280, 1)));
  h = tfl.layers.globalAveragePooling2d({}).apply(h);
  h = tfl.layers.dropout({ rate: 0.2 }).apply(h);
  h = tfl.layers.dense({ units: numClasses }).apply(h);
  return tfl.model({ inputs: input, outputs: h });
}

function tflCifarResnet20B(numClasses = 10) {
  const input = tfl.input({ shape: [32, 32, 3] });
  let h = relu(bn(conv(input, 16, 3)));
  let channels = 16;
  for (const [planes, stride] of [
    [16, 1],
    [32, 2],
    [64, 2],
  ]) {
    for (let b = 0; b < 3; b++) {
      const s = b === 0 ? stride : 1;
      let identity = h;
      if (s !== 1 || channels !== planes) identity = bn(conv(h, planes, 1, s));
      let o = relu(bn(conv(h, planes, 3, s)));
      o = bn(conv(o, planes, 3));
      h = relu(tfl.layers.add().apply([o, identity]));
      channels = planes;
    }
  }
  h = tfl.layers.globalAveragePooling2d({}).apply(h);
  h = tfl.layers.dense({ units: numClasses }).apply(h);
  return tfl.model({ inputs: input, outputs: h });
}

// ---------------------------------------------------------------------------- measurement

/**
 * Median milliseconds of `fn` (returns tensors to read back and dispose) after a warm-up of at
 * least 2 calls and 1 s (zoo_torch.py does the same). With one warm-up call, ResNet-18 at batch
 * 1 on 2 threads ran its next ten calls at 60 to 75 ms before settling at 48 to 55: the timed
 * runs measured the warm-up.
 */
async function time(fn, runs = RUNS) {
  const warmUntil = performance.now() + 1000;
  for (let i = 0; i < 2 || performance.now() < warmUntil; i++) await settle(fn());
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await settle(fn());
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function settle(result) {
  const tensors = (Array.isArray(result) ? result : [result]).filter(Boolean);
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}

const rows = [];
function report(row) {
  rows.push(row);
  console.error(
    `${row.model} ${row.task} batch ${row.batch}: convkit ${row.convkitMs.toFixed(0)} ms, tfjs-layers ${row.tflMs?.toFixed(0) ?? '-'} ms`,
  );
}

for (const [name, ck, tflModel] of [
  ['ResNet-18', () => zoo.resnet18({ initWeights: false }), tflResnet18],
  ['MobileNetV2', () => zoo.mobilenetV2({ initWeights: false }), tflMobilenetV2],
]) {
  const convkit = ck().eval();
  const model = tflModel();
  for (const batch of [1, 8]) {
    const x = tf.randomNormal([batch, 224, 224, 3]);
    const convkitMs = await time(() => tf.tidy(() => convkit.forward(x)));
    const tflMs = withPeers
      ? await time(() => tf.tidy(() => model.apply(x, { training: false })))
      : undefined;
    report({ model: name, task: 'inference', batch, convkitMs, tflMs });
    x.dispose();
  }
  convkit.dispose();
  model.dispose();
}

{
  const batch = 128;
  const x = tf.randomNormal([batch, 32, 32, 3]);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
  const lossOf = (logits) => tf.losses.softmaxCrossEntropy(labels, logits);
  const step = (forward, vars, optimizer) => () =>
    tf.tidy(() => optimizer.minimize(() => lossOf(forward()), true, vars));
  for (const shortcut of ['A', 'B']) {
    const convkit = zoo.cifarResnet20({ shortcut }).train();
    const ckStep = step(() => convkit.forward(x), convkit.trainableVariables(), tf.train.sgd(0.01));
    const convkitMs = await time(ckStep);
    let tflMs;
    if (shortcut === 'B' && withPeers) {
      const model = tflCifarResnet20B();
      const vars = model.trainableWeights.map((w) => w.read());
      tflMs = await time(step(() => model.apply(x, { training: true }), vars, tf.train.sgd(0.01)));
      model.dispose();
    }
    report({ model: `CIFAR ResNet-20 (${shortcut})`, task: 'train step', batch, convkitMs, tflMs });
    convkit.dispose();
  }
  tf.dispose([x, labels]);
}

console.log('| model | task | batch | convkit ms | tfjs-layers ms | convkit / tfjs-layers |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const ratio = r.tflMs ? (r.convkitMs / r.tflMs).toFixed(2) : '-';
  console.log(
    `| ${r.model} | ${r.task} | ${r.batch} | ${r.convkitMs.toFixed(0)} | ${r.tflMs?.toFixed(0) ?? '-'} | ${ratio} |`,
  );
}
console.log(`\nbackend ${backend}, tf.memory().numTensors at exit ${tf.memory().numTensors}`);
