// The tfjs-layers peer of the main job (fashion-mnist.mjs runs it): the same LeNet-5 as a
// `tf.sequential`, compiled with tfjs's Adam (lr 2e-3, eps 1e-8, cosine annealing to 0 set on
// the optimizer before every batch), trained with `model.fit` (batch 64, shuffle) on the main
// job's split, then evaluated on the test set. Prints one JSON line.
//   node fashion-mnist-tfjs-layers.mjs <split.json> [epochs] [data dir]
// tfjs-layers trains here on the wasm backend set up by @convkit/backend's selectBackend: plain
// tfjs wasm lacks Conv2DBackpropFilter (and other training kernels) that convkit registers.
import { loadavg } from 'node:os';
import { selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  DEFAULT_DATA_DIR,
  normalizedImages,
  readSplit,
  readSplitFile,
} from './fashion-mnist-data.mjs';

const [splitPath, epochsArg, dataDir = DEFAULT_DATA_DIR] = process.argv.slice(2);
if (!splitPath) throw new Error('usage: node fashion-mnist-tfjs-layers.mjs <split.json> [epochs]');
const epochs = Number(epochsArg ?? 8);
const batchSize = 64;
const lr = 2e-3;
const seed = 0;
const started = performance.now();

const report = await selectBackend({ backend: 'wasm' });

const split = readSplitFile(splitPath);
const trainAll = readSplit(dataDir, 'train');
const testAll = readSplit(dataDir, 'test');
const testIdx = Array.from({ length: testAll.count }, (_, i) => i);
const tensors = (source, indices) => ({
  x: tf.tensor4d(normalizedImages(source.images, indices), [indices.length, 28, 28, 1]),
  y: tf.tensor2d(
    Float32Array.from(indices, (i) => source.labels[i]),
    [indices.length, 1],
  ),
});
const train = tensors(trainAll, split.train);
const val = tensors(trainAll, split.validation);
const test = tensors(testAll, testIdx);

// PyTorch's default initialization (as convkit's Conv2d and Linear): weights U(±1/sqrt(fanIn))
// (kaiming_uniform with a = sqrt(5) is variance scaling 1/3, fan in, uniform), biases the same.
let layerSeed = seed;
const init = (fanIn) => ({
  kernelInitializer: tfl.initializers.varianceScaling({
    scale: 1 / 3,
    mode: 'fanIn',
    distribution: 'uniform',
    seed: layerSeed++,
  }),
  biasInitializer: tfl.initializers.randomUniform({
    minval: -1 / Math.sqrt(fanIn),
    maxval: 1 / Math.sqrt(fanIn),
    seed: layerSeed++,
  }),
});
const model = tfl.sequential({
  layers: [
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 6,
      kernelSize: 5,
      padding: 'same', // 5x5, stride 1: pad 2
      activation: 'relu',
      ...init(25),
    }),
    tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tfl.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', ...init(150) }),
    tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 120, activation: 'relu', ...init(400) }),
    tfl.layers.dense({ units: 84, activation: 'relu', ...init(120) }),
    // tfjs-layers' cross-entropy losses take probabilities: softmax here, sparse CE below.
    tfl.layers.dense({ units: 10, activation: 'softmax', ...init(84) }),
  ],
});
const optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-8);
model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

// Cosine annealing to 0 over the run, per step, as the main job's CosineAnnealingLR: step k
// (zero-based, over all epochs) uses lr * (1 + cos(pi k / T)) / 2, T = epochs * batches.
const batches = Math.ceil(split.train.length / batchSize);
const totalSteps = epochs * batches;
let step = 0;
const history = [];
let epochStart = 0;
const fitStart = performance.now();
await model.fit(train.x, train.y, {
  batchSize,
  epochs,
  shuffle: true,
  verbose: 0,
  callbacks: {
    onEpochBegin: async () => {
      epochStart = performance.now();
    },
    onBatchBegin: async () => {
      optimizer.learningRate = (lr * (1 + Math.cos((Math.PI * step) / totalSteps))) / 2;
      step += 1;
    },
    onEpochEnd: async (epoch, logs) => {
      // The training pass ends here; validation (as the main job's, batch 500) is timed apart.
      const seconds = (performance.now() - epochStart) / 1000;
      const [valLoss, valAccuracy] = await evaluate(val);
      history.push({
        epoch,
        loss: logs.loss,
        accuracy: logs.acc,
        valLoss,
        valAccuracy,
        seconds,
        load: loadavg()[0],
      });
      process.stderr.write(
        `tfjs-layers epoch ${epoch + 1}/${epochs}  ${seconds.toFixed(1)} s  loss ${logs.loss.toFixed(4)}  val_accuracy ${valAccuracy.toFixed(4)}\n`,
      );
    },
  },
});
const trainingSeconds = (performance.now() - fitStart) / 1000;
const [testLoss, testAccuracy] = await evaluate(test);

async function evaluate({ x, y }) {
  const out = model.evaluate(x, y, { batchSize: 500 });
  const values = await Promise.all(out.map((t) => t.data()));
  for (const t of out) t.dispose();
  return values.map((v) => v[0]);
}

console.log(
  JSON.stringify({
    framework: 'tfjs-layers',
    backend: `tfjs-layers 4.22 on ${report.backend} (${report.device}) via @convkit/backend`,
    epochs,
    steps: step,
    history,
    seconds: { training: trainingSeconds, process: (performance.now() - started) / 1000 },
    test: { loss: testLoss, accuracy: testAccuracy, samples: testIdx.length },
  }),
);
