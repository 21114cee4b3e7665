// Peak memory of CIFAR ResNet-20 training (batch 128, option-A shortcuts, SGD) on convkit's
// default Node backend (or BENCH_BACKEND's): the process's peak RSS after a few steps, and before the model was
// built (Node + tfjs + the started backend), in MB. Prints one JSON line; run by threads.mjs,
// which runs resnet20_memory.py as PyTorch's peer.
import { selectBackend } from '@convkit/backend';
import { cifarResnet20 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';

const STEPS = 3;
const report = await selectBackend(
  process.env.BENCH_BACKEND ? { backend: process.env.BENCH_BACKEND } : {},
);
const mb = (kb) => kb / 1024;
const baseline = mb(process.resourceUsage().maxRSS);

const model = cifarResnet20({ shortcut: 'A' }).train();
const x = tf.randomNormal([128, 32, 32, 3]);
const labels = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32'), 10);
const optimizer = tf.train.sgd(0.01);
for (let i = 0; i < STEPS; i++) {
  const loss = optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(labels, model.forward(x)),
    true,
    model.trainableVariables(),
  );
  await loss.data();
  loss.dispose();
}
console.log(
  JSON.stringify({
    device: report.device,
    baselineMB: baseline,
    peakMB: mb(process.resourceUsage().maxRSS),
  }),
);
