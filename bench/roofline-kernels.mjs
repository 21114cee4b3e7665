// One roofline worker: GFLOP/s of the compute kernels convkit's default Node backend runs for a
// convolutional network, on one thread, each the best of many short samples (as the peaks in
// wasm-peak.mjs and native-peak.c are measured, so the fractions compare like with like on a
// busy machine, which needs samples of a few milliseconds: a 3x3 convolution 28x28x64 -> 64 at
// batch 1, each gradient costing the FLOPs of the forward, and a 128x576 @ 576x128 product). Prints one JSON line. Run by roofline.mjs.
import * as tf from '@tensorflow/tfjs-core';

const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const { selectBackend } = await import('@convkit/backend');
const report = await selectBackend();

function seeded(shape, scale, seed) {
  let s = seed >>> 0;
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return tf.tensor(values, shape);
}

/** Best GFLOP/s of `fn` (which returns a tensor) over samples within the time budget. */
function best(flops, fn) {
  for (let i = 0; i < 3; i++) fn().dataSync();
  let fastest = Number.POSITIVE_INFINITY;
  const end = performance.now() + seconds * 1000;
  for (let n = 0; n < 5 || performance.now() < end; n++) {
    const start = performance.now();
    const y = fn();
    y.dataSync();
    fastest = Math.min(fastest, performance.now() - start);
    y.dispose();
  }
  return flops / (fastest / 1000) / 1e9;
}

const x = seeded([1, 28, 28, 64], 1, 7);
const w = seeded([3, 3, 64, 64], 0.05, 8);
const dy = seeded([1, 28, 28, 64], 1, 9);
const convFlops = 2 * 28 * 28 * 64 * 64 * 9;
const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
const a = seeded([128, 576], 1, 10);
const b = seeded([576, 128], 1, 11);
const forward = () => tf.conv2d(x, w, 1, 'same');
const backwardInput = () =>
  tf
    .engine()
    .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape });
const backwardFilter = () =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape });
/** GFLOP/s of `fn` with Winograd off: convkit's direct convolution (tfjs flags need a backend). */
function direct(fn) {
  tf.env().set('CONVKIT_WASM_WINOGRAD', false);
  try {
    return best(convFlops, fn);
  } finally {
    tf.env().set('CONVKIT_WASM_WINOGRAD', true);
  }
}
const result = {
  backend: report.backend,
  device: report.device,
  // Winograd (the default for this shape) and the direct convolution; each counted as the
  // direct convolution's FLOPs.
  convForward: best(convFlops, forward),
  convForwardDirect: direct(forward),
  convBackwardInput: best(convFlops, backwardInput),
  convBackwardInputDirect: direct(backwardInput),
  convBackwardFilter: best(convFlops, backwardFilter),
  convBackwardFilterDirect: direct(backwardFilter),
  matMul: best(2 * 128 * 576 * 128, () => tf.matMul(a, b)),
};
console.log(JSON.stringify(result));
