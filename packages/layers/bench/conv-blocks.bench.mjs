// Conv blocks, forward and forward + backward: convkit layers vs the equivalent
// @tensorflow/tfjs-layers model on the same backend (wasm by default). Not part of the test
// suite. Run from the repository root:
//
//   node packages/layers/bench/conv-blocks.bench.mjs [backend] [seconds per row]
//
// Blocks: (a) conv 3x3 32->64 pad 1 -> BatchNorm -> ReLU -> max-pool 2 on [16, 32, 32, 32];
// (b) a ResNet basic block (64 channels, identity shortcut) on [8, 28, 28, 64].
// Forward runs in train mode (batch statistics), as the backward pass does. The PyTorch peer is
// conv_blocks_torch.py. The sources are bundled with esbuild (tfjs and @convkit/* external).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importForBench } from '@convkit/tooling/bench';

const here = dirname(fileURLToPath(import.meta.url));
const ck = await importForBench(here, [
  "export { Module } from '../src/module.ts';",
  "export { Conv2d } from '../src/conv2d.ts';",
  "export { BatchNorm2d } from '../src/batch-norm-2d.ts';",
  "export { ReLU } from '../src/relu.ts';",
  "export { MaxPool2d } from '../src/max-pool-2d.ts';",
  "export { Sequential } from '../src/sequential.ts';",
  "export * as tf from '@tensorflow/tfjs-core';",
  "export * as tfl from '@tensorflow/tfjs-layers';",
  "export { selectBackend } from '@convkit/backend';",
]);
const { tf, tfl } = ck;

const backend = process.argv[2] ?? 'wasm';
const SECONDS = Number(process.argv[3] ?? 3);
await ck.selectBackend({ backend });

class BasicBlock extends ck.Module {
  constructor(c) {
    super({ c });
    this.conv1 = new ck.Conv2d({
      inChannels: c,
      outChannels: c,
      kernelSize: 3,
      padding: 1,
      bias: false,
    });
    this.bn1 = new ck.BatchNorm2d({ numFeatures: c });
    this.conv2 = new ck.Conv2d({
      inChannels: c,
      outChannels: c,
      kernelSize: 3,
      padding: 1,
      bias: false,
    });
    this.bn2 = new ck.BatchNorm2d({ numFeatures: c });
  }
  forward(x) {
    const h = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    return tf.relu(tf.add(this.bn2.forward(this.conv2.forward(h)), x));
  }
  outputShape(s) {
    return s;
  }
}

function tflConvBlock(shape) {
  const input = tfl.input({ shape: shape.slice(1) });
  let h = tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }).apply(input);
  h = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h);
  h = tfl.layers.reLU().apply(h);
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h);
  return tfl.model({ inputs: input, outputs: h });
}

function tflBasicBlock(shape) {
  const c = shape[3];
  const input = tfl.input({ shape: shape.slice(1) });
  const conv = () =>
    tfl.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', useBias: false });
  const bn = () => tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  let h = tfl.layers.reLU().apply(bn().apply(conv().apply(input)));
  h = bn().apply(conv().apply(h));
  h = tfl.layers.reLU().apply(tfl.layers.add().apply([h, input]));
  return tfl.model({ inputs: input, outputs: h });
}

const BLOCKS = [
  {
    name: 'conv-BN-ReLU-maxpool',
    shape: [16, 32, 32, 32],
    convkit: () =>
      new ck.Sequential(
        new ck.Conv2d({ inChannels: 32, outChannels: 64, kernelSize: 3, padding: 1 }),
        new ck.BatchNorm2d({ numFeatures: 64 }),
        new ck.ReLU(),
        new ck.MaxPool2d({ kernelSize: 2 }),
      ),
    tfl: tflConvBlock,
  },
  {
    name: 'ResNet basic block',
    shape: [8, 28, 28, 64],
    convkit: () => new BasicBlock(64),
    tfl: tflBasicBlock,
  },
];

/** Median milliseconds of `fn` (which returns a tensor or tensors to read back and dispose). */
async function time(fn) {
  for (let i = 0; i < 2; i++) await settle(fn());
  const times = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < SECONDS * 1000 && times.length < 50)) {
    const t0 = performance.now();
    await settle(fn());
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function settle(result) {
  const tensors = Array.isArray(result) ? result : [result];
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}

const rows = [];
for (const block of BLOCKS) {
  const x = tf.randomNormal(block.shape, 0, 1, 'float32', 1);
  const convkit = block.convkit();
  convkit.train();
  const model = block.tfl(block.shape);
  const ckParams = convkit.trainableVariables();
  const tflParams = model.trainableWeights.map((w) => w.read());
  const ckForward = () => tf.tidy(() => convkit.forward(x));
  const tflForward = () => tf.tidy(() => model.apply(x, { training: true }));
  const ckBackward = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(convkit.forward(x)), ckParams);
      return [value, ...Object.values(grads)];
    });
  const tflBackward = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(model.apply(x, { training: true })),
        tflParams,
      );
      return [value, ...Object.values(grads)];
    });
  for (const [pass, a, b] of [
    ['forward', ckForward, tflForward],
    ['forward + backward', ckBackward, tflBackward],
  ]) {
    const convkitMs = await time(a);
    const tflMs = await time(b);
    rows.push({
      block: block.name,
      input: `[${block.shape}]`,
      pass,
      convkitMs,
      tflMs,
      ratio: convkitMs / tflMs,
    });
    console.error(
      `${block.name} ${pass}: convkit ${convkitMs.toFixed(1)} ms, tfjs-layers ${tflMs.toFixed(1)} ms`,
    );
  }
  x.dispose();
  convkit.dispose();
  model.dispose();
}

console.log(
  `| block | input (NHWC) | pass | convkit ms | tfjs-layers ms | convkit / tfjs-layers |`,
);
console.log(`| --- | --- | --- | ---: | ---: | ---: |`);
for (const r of rows) {
  console.log(
    `| ${r.block} | ${r.input} | ${r.pass} | ${r.convkitMs.toFixed(1)} | ${r.tflMs.toFixed(1)} | ${r.ratio.toFixed(2)} |`,
  );
}
console.log(`\nbackend ${backend}, tf.memory().numTensors at exit ${tf.memory().numTensors}`);
