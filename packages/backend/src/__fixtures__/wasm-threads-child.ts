// Run in a child process by wasm-threads.test.ts: starts the wasm backend with the thread
// count given as argv[2], runs the convolution and matrix kernels forward and backward on
// seeded inputs, and prints one JSON line: the report's thread counts and FMA, whether
// convkit's SIMD helpers run, a SHA-256 of each result's float32 bits, and the tensors left. It never calls process.exit: the test also
// checks that the pool's threads let the process end by itself.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { batchNormInference } from '../batch-norm-inference';
import { batchNormTraining } from '../batch-norm-training';
import { simdKernels } from '../internal/wasm/simd-kernels';
import { RandomSource } from '../random';
import { formatBackendReport, selectBackend } from '../select-backend';

const report = await selectBackend({ backend: 'wasm', threads: Number(process.argv[2]) });
const random = new RandomSource(7);
const normal = (shape: number[]) => random.normalTensor(shape);

const x = normal([4, 15, 15, 8]) as tf.Tensor4D;
const w = normal([3, 3, 8, 16]) as tf.Tensor4D;
const dw = normal([3, 3, 8, 1]) as tf.Tensor4D;
// Large enough for the filter gradient to split across convkit's kernel workers, with row
// and column counts that are not multiples of 4 (117 patch rows, 29 output channels).
const xLarge = normal([6, 21, 21, 13]) as tf.Tensor4D;
const wLarge = normal([3, 3, 13, 29]) as tf.Tensor4D;
// And one the direct filter gradient takes (Co % 8 == 0), split by channels: 14 input
// channels, so that the shares end with a narrower block of 2 (1 thread), 3 (2) or 1 (3).
const xDirect = normal([6, 19, 19, 14]) as tf.Tensor4D;
const wDirect = normal([3, 3, 14, 24]) as tf.Tensor4D;
// And one with under 8 input channels, which the direct filter gradient splits by chunks of
// images (3 chunks of 2, 2 and 1), large enough to run on the kernel threads.
const xFew = normal([5, 24, 24, 6]) as tf.Tensor4D;
const wFew = normal([3, 3, 6, 8]) as tf.Tensor4D;
// And a 1-channel input (the planar filter gradient: 4 chunks of 3, 3, 3 and 2 images), with
// rows of 30 pixels (padded to 32) and 5 outputs.
const xGrey = normal([11, 30, 30, 1]) as tf.Tensor4D;
const wGrey = normal([5, 5, 1, 5]) as tf.Tensor4D;
// And a bias add, its gradient (a sum over the leading axes) and a ReLU gradient over 196K
// floats of 12 channels: passes in fixed chunks, split between the threads.
const xBias = normal([16, 32, 32, 12]);
const bias = normal([12]);
// And one the direct convolution takes forward and for its input gradient (8 and 24
// channels: under Winograd's 16), large enough to split its output rows between the threads.
const xConv = normal([3, 17, 17, 8]) as tf.Tensor4D;
const wConv = normal([3, 3, 8, 24]) as tf.Tensor4D;
// And one with 12 blocks of 8 outputs, which the threads split by blocks instead of rows
// (12 input channels).
const xWide = normal([2, 8, 8, 12]) as tf.Tensor4D;
const wWide = normal([3, 3, 12, 96]) as tf.Tensor4D;
// And Winograd's two splits: chunks of up to 256 tiles (8 images of 16x16, 32 channels: 2
// chunks on 1 thread, 1 a thread on 2, 176, 176 and 160 tiles on 3), forward and input
// gradient; and a filter larger than the planes of its 9 tiles, split by outputs on 2 and 3
// threads (one chunk on 1).
const xWinograd = normal([8, 16, 16, 32]) as tf.Tensor4D;
const wWinograd = normal([3, 3, 32, 32]) as tf.Tensor4D;
// And Winograd's filter gradient, its two splits: 64 channels, 256 tiles in 4 groups of 64
// (the threads taking 4, 2 and 2, or 2, 1 and 1 groups); and the few-tiles layer's 128
// channels (sums over the group limit), the threads splitting the input channels.
const xWinogradWide = normal([4, 16, 16, 64]) as tf.Tensor4D;
const wWinogradWide = normal([3, 3, 64, 64]) as tf.Tensor4D;
const xFewTiles = normal([1, 6, 6, 128]) as tf.Tensor4D;
const wFewTiles = normal([3, 3, 128, 128]) as tf.Tensor4D;
// And one with outputs not in eights (6 forward, 5 for the input gradient): the last block
// of 8 stores only its first lanes.
const xPart = normal([3, 17, 17, 5]) as tf.Tensor4D;
const wPart = normal([5, 5, 5, 6]) as tf.Tensor4D;
// And batch norm over 12.8M floats: 392 chunks, more calls than one wake of a worker takes
// on 2 or 3 threads (the pool runs them in rounds).
const big = tf.tile(normal([1, 14, 14, 128]), [8, 8, 8, 1]);
const [bnMean, bnVariance, bnWeight, bnBias] = [0, 1, 2, 3].map(() => normal([128]));
const a = normal([64, 96]) as tf.Tensor2D;
const b = normal([96, 48]) as tf.Tensor2D;
const before = tf.memory().numTensors;

/** Each result's values, as the gradients of a scalar objective or a forward output. */
const results: Record<string, tf.Tensor> = tf.tidy(() => {
  const conv = (stride: 1 | 2, pad: 'same' | 'valid') => (xx: tf.Tensor, ww: tf.Tensor) =>
    tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, pad).relu().square().sum();
  const [dx1, dw1] = tf.grads(conv(1, 'same'))([x, w]);
  const [dx2, dw2] = tf.grads(conv(2, 'valid'))([x, w]);
  const [, dwLarge] = tf.grads(conv(1, 'same'))([xLarge, wLarge]);
  const [, dwDirect] = tf.grads(conv(2, 'same'))([xDirect, wDirect]);
  const [, dwFew] = tf.grads(conv(1, 'same'))([xFew, wFew]);
  const [, dwGrey] = tf.grads(conv(1, 'same'))([xGrey, wGrey]);
  const [dxBias, dBias] = tf.grads((xx: tf.Tensor, bb: tf.Tensor) =>
    tf.add(xx, bb).relu().square().sum(),
  )([xBias, bias]);
  const [dxConv] = tf.grads(conv(1, 'same'))([xConv, wConv]);
  const [dxPart] = tf.grads(conv(1, 'same'))([xPart, wPart]);
  const [dxWinograd] = tf.grads(conv(1, 'same'))([xWinograd, wWinograd]);
  const [, dwWinograd] = tf.grads(conv(1, 'same'))([xWinogradWide, wWinogradWide]);
  const [, dwFewTiles] = tf.grads(conv(1, 'same'))([xFewTiles, wFewTiles]);
  const depthwise = (xx: tf.Tensor, ww: tf.Tensor) =>
    tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same').square().sum();
  const [dxd, dwd] = tf.grads(depthwise)([x, dw]);
  const pooled = (xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid').square().sum();
  const dense = (aa: tf.Tensor, bb: tf.Tensor) =>
    tf.matMul(aa as tf.Tensor2D, bb as tf.Tensor2D).tanh().sum();
  const [da, db] = tf.grads(dense)([a, b]);
  return {
    convForward: tf.conv2d(x, w, 1, 'same'),
    convStride2Forward: tf.conv2d(x, w, 2, 'valid'),
    convInputGrad: dx1,
    convFilterGrad: dw1,
    convStride2InputGrad: dx2,
    convStride2FilterGrad: dw2,
    convLargeFilterGrad: dwLarge,
    convDirectFilterGrad: dwDirect,
    convDirectImageChunksFilterGrad: dwFew,
    convPlanarFilterGrad: dwGrey,
    biasAdd: tf.add(xBias, bias),
    biasReluInputGrad: dxBias,
    biasGrad: dBias,
    convDirectForward: tf.conv2d(xConv, wConv, 1, 'same'),
    fusedConvBiasRelu: tf.fused.conv2d({
      x: xConv,
      filter: wConv,
      bias: normal([24]),
      strides: 1,
      pad: 'same',
      activation: 'relu',
    }),
    convDirectInputGrad: dxConv,
    convWideForward: tf.conv2d(xWide, wWide, 1, 'same'),
    convPartForward: tf.conv2d(xPart, wPart, 1, 'same'),
    convPartInputGrad: dxPart,
    winogradForward: tf.conv2d(xWinograd, wWinograd, 1, 'same'),
    winogradInputGrad: dxWinograd,
    winogradFilterGrad: dwWinograd,
    winogradFewTilesForward: tf.conv2d(xFewTiles, wFewTiles, 1, 'same'),
    winogradChannelsFilterGrad: dwFewTiles,
    depthwiseInputGrad: dxd,
    depthwiseFilterGrad: dwd,
    maxPoolGrad: tf.grad(pooled)(x),
    matMul: tf.matMul(a, b),
    matMulGradA: da,
    matMulGradB: db,
    batchNormInference: batchNormInference(big, bnMean, bnVariance.abs(), bnWeight, bnBias),
    batchNormTraining: batchNormTraining(big, bnWeight, bnBias).y,
  };
});

const hashes: Record<string, string> = {};
for (const [name, t] of Object.entries(results)) {
  const values = (await t.data()) as Float32Array;
  hashes[name] = createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex');
}
tf.dispose(Object.values(results));
console.log(
  JSON.stringify({
    threads: report.wasm?.threads,
    reason: report.wasm?.singleThreadReason,
    kernelThreads: report.wasm?.kernelThreads,
    kernelThreadsReason: report.wasm?.kernelThreadsReason,
    xnnpackThreads: report.wasm?.xnnpackThreads,
    formatted: formatBackendReport(report),
    // What XNNPACK's pool really has (tfjs's own count), not what the report says.
    xnnpackPool: (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm
      .tfjs.getThreadsCount(),
    fma: report.wasm?.fma,
    // convkit's SIMD helpers bound to tfjs's heap (shared in the threaded build), not JS loops.
    simdHelpers: simdKernels(tf.backend() as BackendWasm) !== undefined,
    hashes,
    leaked: tf.memory().numTensors - before,
  }),
);
