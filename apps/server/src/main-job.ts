import {
  type BackendName,
  type BackendReport,
  formatBackendReport,
  globalRandom,
  manualSeed,
  selectBackend,
} from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';

export interface MainJobOptions {
  backend: 'auto' | BackendName;
  steps: number;
  batchSize: number;
  seed: number;
  log: (line: string) => void;
}

export interface MainJobResult {
  report: BackendReport;
  losses: number[];
  stepsPerSecond: number;
}

/**
 * The README's main job at this stage: report the backend, then train a small conv net
 * (conv -> relu -> max-pool -> conv -> relu -> max-pool -> dense) with SGD on a
 * seeded synthetic task (is the bright square in the left or the right half?). It grows into
 * LeNet-5 on Fashion-MNIST when @convkit/data and @convkit/train land.
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobResult> {
  const report = await selectBackend({ backend: options.backend });
  options.log(formatBackendReport(report));
  if (!report.capabilities.canTrainConvNets) {
    throw new Error(
      `main job: backend '${report.backend}' cannot train conv nets (missing ${report.capabilities.missingTrainingKernels.join(', ')})`,
    );
  }
  manualSeed(options.seed);
  const random = globalRandom();
  // He-normal weights; tf.variable copies its initial value, so the tidy frees the originals.
  const weights = tf.tidy(() => ({
    conv1: tf.variable(random.normalTensor([3, 3, 1, 8], 0, Math.sqrt(2 / 9))),
    conv2: tf.variable(random.normalTensor([3, 3, 8, 16], 0, Math.sqrt(2 / 72))),
    dense: tf.variable(random.normalTensor([4 * 4 * 16, 2], 0, Math.sqrt(1 / 256))),
    bias: tf.variable(tf.zeros([2])),
  }));
  // Plain SGD: tfjs's MomentumOptimizer.dispose() leaks its learning-rate scalar.
  const optimizer = tf.train.sgd(0.1);
  const losses: number[] = [];
  const start = performance.now();
  for (let step = 1; step <= options.steps; step++) {
    const { images, labels } = syntheticBatch(options.batchSize);
    const loss = optimizer.minimize(() => {
      const logits = forward(weights, images);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2), logits) as tf.Scalar;
    }, true)!;
    const value = (await loss.data())[0];
    tf.dispose([loss, images, labels]);
    losses.push(value);
    if (step === 1 || step % 5 === 0 || step === options.steps) {
      options.log(`step ${String(step).padStart(3)}  loss ${value.toFixed(4)}`);
    }
  }
  const stepsPerSecond = options.steps / ((performance.now() - start) / 1000);
  options.log(
    `${options.steps} steps at batch ${options.batchSize}: ${stepsPerSecond.toFixed(1)} steps/s`,
  );
  optimizer.dispose();
  tf.dispose(Object.values(weights));
  return { report, losses, stepsPerSecond };
}

type Weights = Record<'conv1' | 'conv2' | 'dense' | 'bias', tf.Variable>;

function forward(w: Weights, images: tf.Tensor4D): tf.Tensor2D {
  let h = tf.relu(tf.conv2d(images, w.conv1 as tf.Tensor4D, 1, 'same')); // [N, 16, 16, 8]
  h = tf.maxPool(h, 2, 2, 'valid'); // [N, 8, 8, 8]
  h = tf.relu(tf.conv2d(h, w.conv2 as tf.Tensor4D, 1, 'same')); // [N, 8, 8, 16]
  h = tf.maxPool(h, 2, 2, 'valid'); // [N, 4, 4, 16]
  const flat = tf.reshape(h, [h.shape[0], 4 * 4 * 16]) as tf.Tensor2D; // [N, 256]
  return tf.add(tf.matMul(flat, w.dense as tf.Tensor2D), w.bias); // [N, 2]
}

/** 16x16 noise images with a bright 4x4 square; the label is the half it sits in. */
function syntheticBatch(batchSize: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const random = globalRandom();
  const size = 16;
  const pixels = random.normalArray(batchSize * size * size, 0, 0.3);
  const labels = new Int32Array(batchSize);
  for (let n = 0; n < batchSize; n++) {
    const label = random.int(0, 2);
    labels[n] = label;
    const top = random.int(0, size - 4);
    const left = label * (size / 2) + random.int(0, size / 2 - 4);
    for (let y = top; y < top + 4; y++) {
      for (let x = left; x < left + 4; x++) pixels[(n * size + y) * size + x] += 1.5;
    }
  }
  return {
    images: tf.tensor4d(pixels, [batchSize, size, size, 1]),
    labels: tf.tensor1d(labels, 'int32'),
  };
}
