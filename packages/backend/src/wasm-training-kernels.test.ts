import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormInference } from './batch-norm-inference';
import { batchNormTraining } from './batch-norm-training';
import { conv2dMethod } from './internal/wasm/conv2d';
import { nhwcConvInfo } from './internal/wasm/kernel-scope';
import { packedFilterCount } from './internal/wasm/packed-filters';
import { tuning } from './internal/wasm/simd-kernels';
import { selectBackend } from './select-backend';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

// Every case runs the same computation on the cpu backend (the oracle: tfjs's reference
// kernels, accumulating in doubles) and on wasm with convkit's kernels, from the same seeded
// data, and compares |wasm - cpu| <= atol + rtol*|cpu| with rtol 1e-5 and an atol scaled to
// the result's magnitude (float32 sums of hundreds of terms in another order).

type Backend = 'cpu' | 'wasm';
type Shape4 = [number, number, number, number];

/** Deterministic data: a small LCG, values in [-1, 1). */
function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

async function use(backend: Backend): Promise<void> {
  if (tf.getBackend() !== backend) await selectBackend({ backend });
}

/** Run `fn` on `backend` (tensors created inside), returning every output's values. */
async function runOn(backend: Backend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await use(backend);
  const outs = tf.tidy(() => [fn()].flat());
  const values = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return values;
}

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  rtol = 1e-5,
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  }
  const atol = 1e-6 * Math.max(1, scale);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (a === b || (Number.isNaN(b) && Number.isNaN(a))) continue; // equal infinities too
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      throw new Error(
        `${label}: at ${i} got ${a}, expected ${b} (rtol ${rtol}, atol ${atol.toExponential(2)})`,
      );
    }
  }
}

/** Run `body` with some of the internal switches changed, restoring them after. */
async function withTuning<T>(changes: Partial<typeof tuning>, body: () => Promise<T>): Promise<T> {
  const saved = { ...tuning };
  Object.assign(tuning, changes);
  try {
    return await body();
  } finally {
    Object.assign(tuning, saved);
  }
}

/** The same computation on cpu and wasm, compared output by output. */
async function compareBackends(
  label: string,
  fn: () => tf.Tensor | tf.Tensor[],
  rtol = 1e-5,
): Promise<Float32Array[]> {
  const expected = await runOn('cpu', fn);
  const actual = await runOn('wasm', fn);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expectClose(actual[i], expected[i], `${label} [output ${i}]`, rtol);
  return actual;
}

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

/** Naive float64 conv2d (NHWC, HWIO) with dilation, for the kernels tfjs never calls with one. */
function referenceConv(
  x: Float32Array,
  xShape: number[],
  w: Float32Array,
  wShape: number[],
  stride: [number, number],
  dilation: [number, number],
  pads: { top: number; left: number },
  outShape: number[],
  depthwise: boolean,
) {
  const [n, h, wd, ci] = xShape;
  const [kh, kw, , cm] = wShape;
  const [, oh, ow, co] = outShape;
  // y and the maps to compute dx and dw as sums over the same index set.
  const taps: [number, number, number][] = []; // [x index, w index, y index]
  for (let b = 0; b < n; b++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let a = 0; a < kh; a++)
          for (let e = 0; e < kw; e++) {
            const r = p * stride[0] + a * dilation[0] - pads.top;
            const c = q * stride[1] + e * dilation[1] - pads.left;
            if (r < 0 || r >= h || c < 0 || c >= wd) continue;
            for (let o = 0; o < co; o++) {
              const i = depthwise ? Math.floor(o / cm) : -1;
              const inputs = depthwise ? [i] : Array.from({ length: ci }, (_, k) => k);
              for (const k of inputs) {
                const xi = ((b * h + r) * wd + c) * ci + k;
                const wi = depthwise
                  ? ((a * kw + e) * ci + k) * cm + (o % cm)
                  : ((a * kw + e) * ci + k) * co + o;
                taps.push([xi, wi, ((b * oh + p) * ow + q) * co + o]);
              }
            }
          }
  return {
    dx(dy: Float32Array) {
      const out = new Float64Array(size(xShape));
      for (const [xi, wi, yi] of taps) out[xi] += w[wi] * dy[yi];
      return out;
    },
    dw(dy: Float32Array) {
      const out = new Float64Array(size(wShape));
      for (const [xi, wi, yi] of taps) out[wi] += x[xi] * dy[yi];
      return out;
    },
  };
}

beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
  await selectBackend({ backend: 'wasm' });
});

describe('registerWasmTrainingKernels', () => {
  it('registers the missing training kernels on wasm, idempotently', async () => {
    await use('wasm');
    const names = registerWasmTrainingKernels();
    expect(registerWasmTrainingKernels()).toEqual(names);
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
      'UnsortedSegmentSum',
      'BatchMatMul',
    ]) {
      expect(names).toContain(name);
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
    const report = await selectBackend({ backend: 'wasm' });
    expect(report.capabilities.canTrainConvNets).toBe(true);
  });
});

type GradientMethod = 'conv' | 'gemm' | 'direct';

/**
 * The methods every shape runs: the direct convolution takes any channels (forward and input
 * gradient); the direct filter gradient outputs in eights (else its GEMM runs).
 */
const METHODS: GradientMethod[] = ['conv', 'gemm', 'direct'];

/**
 * The tuning that forces `method`: `conv`, XNNPACK convolutions throughout; `gemm`, the
 * GEMM gradients; `direct`, convkit's direct convolution (forward, and the input gradient as a
 * convolution) and direct filter gradient (where the output channels are in eights).
 */
function methodTuning(method: GradientMethod) {
  if (method === 'direct') {
    return { backpropInput: 'conv', backpropFilter: 'direct', conv: 'auto' } as const;
  }
  return { backpropInput: method, backpropFilter: method, conv: 'xnnpack' } as const;
}

describe('conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    strides: number | [number, number];
    pad: Pad;
    round?: 'floor' | 'ceil' | 'round';
  }[] = [
    { name: 'stride 1 same', x: [2, 7, 7, 3], w: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { name: 'stride 1 valid', x: [2, 7, 8, 3], w: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { name: 'stride 2 same, odd size', x: [2, 9, 9, 2], w: [3, 3, 2, 5], strides: 2, pad: 'same' },
    {
      name: 'stride 2 valid, H not aligned',
      x: [3, 10, 9, 2],
      w: [3, 3, 2, 3],
      strides: 2,
      pad: 'valid',
    },
    { name: 'stride 3 same', x: [2, 11, 10, 2], w: [3, 3, 2, 3], strides: 3, pad: 'same' },
    { name: 'stride 3 valid', x: [1, 11, 13, 2], w: [2, 2, 2, 3], strides: 3, pad: 'valid' },
    {
      name: 'stride [1, 2], kernel 2x3',
      x: [2, 8, 9, 3],
      w: [2, 3, 3, 2],
      strides: [1, 2],
      pad: 'same',
    },
    {
      name: 'numeric pad 2, 5x5 (LeNet conv1)',
      x: [2, 12, 12, 1],
      w: [5, 5, 1, 6],
      strides: 1,
      pad: 2,
    },
    {
      name: 'explicit asymmetric pads',
      x: [2, 7, 8, 2],
      w: [3, 3, 2, 3],
      strides: 1,
      pad: [
        [0, 0],
        [0, 2],
        [1, 0],
        [0, 0],
      ],
    },
    {
      name: 'explicit pads larger than the kernel',
      x: [1, 5, 6, 2],
      w: [2, 2, 2, 2],
      strides: 1,
      pad: [
        [0, 0],
        [3, 1],
        [2, 4],
        [0, 0],
      ],
    },
    {
      name: 'explicit pads, stride 2',
      x: [2, 9, 8, 2],
      w: [3, 3, 2, 2],
      strides: 2,
      pad: [
        [0, 0],
        [2, 1],
        [0, 3],
        [0, 0],
      ],
    },
    {
      name: '1x1 kernel stride 2 (downsample)',
      x: [2, 8, 7, 4],
      w: [1, 1, 4, 6],
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'batch 1, kernel as large as the input',
      x: [1, 5, 5, 3],
      w: [5, 5, 3, 2],
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'single input channel, many outputs',
      x: [3, 6, 6, 1],
      w: [3, 3, 1, 8],
      strides: 1,
      pad: 'same',
    },
    // One input channel, stride 1: the planar filter gradient (dy rows padded to 4 pixels,
    // filter columns in blocks of 4, output channels in pairs).
    {
      name: 'single input channel, rows not in fours, 7 filter columns, odd outputs',
      x: [6, 9, 11, 1],
      w: [3, 7, 1, 5],
      strides: 1,
      pad: 'same',
    },
    {
      name: 'single input channel, asymmetric pads cropping the last row and column',
      x: [5, 10, 13, 1],
      w: [4, 2, 1, 3],
      strides: 1,
      pad: [
        [0, 0],
        [2, 0],
        [0, 1],
        [0, 0],
      ],
    },
    // Output channels in eights: the direct filter gradient's shapes (input channels in
    // blocks of 4, then one block of the 1 to 3 left).
    {
      name: 'LeNet conv2, 6 -> 16 channels',
      x: [2, 14, 14, 6],
      w: [5, 5, 6, 16],
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'stride 2 same, 3 -> 8 channels',
      x: [2, 11, 10, 3],
      w: [3, 3, 3, 8],
      strides: 2,
      pad: 'same',
    },
    {
      name: 'stride 1 same, 5 -> 8 channels',
      x: [2, 8, 9, 5],
      w: [3, 3, 5, 8],
      strides: 1,
      pad: 'same',
    },
    {
      name: 'stride 1 same, 8 -> 16 channels',
      x: [2, 7, 6, 8],
      w: [3, 3, 8, 16],
      strides: 1,
      pad: 'same',
    },
    {
      name: 'stride 2 same, odd size, 4 -> 8 channels',
      x: [2, 9, 9, 4],
      w: [3, 3, 4, 8],
      strides: 2,
      pad: 'same',
    },
    {
      name: 'explicit asymmetric pads, 4 -> 24 channels',
      x: [2, 7, 8, 4],
      w: [3, 2, 4, 24],
      strides: [2, 1],
      pad: [
        [0, 0],
        [0, 2],
        [1, 0],
        [0, 0],
      ],
    },
  ];
  for (const c of cases) {
    // Every method of each kernel: XNNPACK convolutions (rotated filter for dx; transposed
    // x and dy for dW), GEMMs (dy x W^T then col2im; im2col^T x dy) and, where the channels
    // allow, the direct convolution and filter gradient; the forward output too.
    it.each(METHODS)(`${c.name} (forward and gradients by %s)`, async (method) => {
      const xv = randomValues(size(c.x), 1);
      const wv = randomValues(size(c.w), 2);
      await withTuning(methodTuning(method), () =>
        compareBackends(c.name, () => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
          const f = (a: tf.Tensor, b: tf.Tensor) => {
            const y = tf.conv2d(
              a as tf.Tensor4D,
              b as tf.Tensor4D,
              c.strides,
              c.pad as any,
              'NHWC',
              1,
              c.round,
            );
            return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 3), y.shape)));
          };
          const y = tf.conv2d(x, w, c.strides, c.pad as any, 'NHWC', 1, c.round);
          return [y, ...tf.grads(f)([x, w])];
        }),
      );
    });
  }

  it('GEMM gradients in batch chunks (a small column budget)', async () => {
    const xShape: [number, number, number, number] = [5, 9, 8, 3];
    const wShape: [number, number, number, number] = [3, 3, 3, 4];
    const xv = randomValues(size(xShape), 13);
    const wv = randomValues(size(wShape), 14);
    await withTuning(
      { backpropInput: 'gemm', backpropFilter: 'gemm', maxColumnFloats: 2 * 5 * 4 * 27 },
      () =>
        compareBackends('chunked', () => {
          const f = (a: tf.Tensor, b: tf.Tensor) => {
            const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same');
            return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 15), y.shape)));
          };
          return tf.grads(f)([tf.tensor4d(xv, xShape), tf.tensor4d(wv, wShape)]);
        }),
    );
  });

  it('the GEMM filter gradient in image chunks, one thread each (a small chunk budget)', async () => {
    // 1 input channel and 6 outputs, as LeNet-5's first layer: 9 patch rows of 72 pixels an
    // image; chunks of 2 images, the last one image.
    const xShape: [number, number, number, number] = [5, 9, 8, 1];
    const wShape: [number, number, number, number] = [3, 3, 1, 6];
    const xv = randomValues(size(xShape), 19);
    const wv = randomValues(size(wShape), 20);
    await withTuning({ backpropFilter: 'gemm', filterChunkFloats: 2 * 9 * 72 }, () =>
      compareBackends('image chunks', () => {
        const f = (a: tf.Tensor, b: tf.Tensor) => {
          const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 21), y.shape)));
        };
        return tf.grads(f)([tf.tensor4d(xv, xShape), tf.tensor4d(wv, wShape)]);
      }),
    );
  });

  it('the direct filter gradient in passes over blocks of channels (a small pass budget)', async () => {
    const xShape: [number, number, number, number] = [3, 7, 6, 16];
    const wShape: [number, number, number, number] = [3, 3, 16, 8];
    const xv = randomValues(size(xShape), 16);
    const wv = randomValues(size(wShape), 17);
    // 4 channels a pass: 4 passes, each adding into its own block of dW.
    await withTuning({ ...methodTuning('direct'), directPassFloats: 3 * 3 * 8 * 4 }, () =>
      compareBackends('direct in passes', () => {
        const f = (a: tf.Tensor, b: tf.Tensor) => {
          const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 18), y.shape)));
        };
        return tf.grads(f)([tf.tensor4d(xv, xShape), tf.tensor4d(wv, wShape)]);
      }),
    );
  });

  it('NCHW data format (kernels run directly)', async () => {
    const xShape = [2, 3, 7, 6];
    const wShape = [3, 3, 3, 4];
    const dyShape = [2, 4, 4, 3]; // stride 2, same: ceil(7/2)=4, ceil(6/2)=3
    const xv = randomValues(size(xShape), 4);
    const wv = randomValues(size(wShape), 5);
    const dyv = randomValues(size(dyShape), 6);
    await compareBackends('NCHW', () => {
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW' };
      const x = tf.tensor(xv, xShape);
      const dy = tf.tensor(dyv, dyShape);
      const w = tf.tensor(wv, wShape);
      const dw = tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { ...attrs, filterShape: wShape },
        ) as tf.Tensor;
      const dx = tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { ...attrs, inputShape: xShape },
        ) as tf.Tensor;
      return [dw, dx];
    });
  });

  // Kernels called directly (tfjs's conv2d gradient never passes dilations, and with
  // dimRoundingMode 'ceil' it passes a dy larger than its own convInfo: cpu then ignores the
  // extra row, and wasm's forward Conv2D leaves it unwritten, so only a reference can judge).
  const dilated: {
    name: string;
    x: number[];
    w: number[];
    s: [number, number];
    d: [number, number];
    pads: { top: number; bottom: number; left: number; right: number };
    round?: 'ceil';
  }[] = [
    {
      name: 'stride 2, numeric pad 1, ceil rounding',
      x: [2, 8, 8, 2],
      w: [3, 3, 2, 2],
      s: [2, 2],
      d: [1, 1],
      pads: { top: 1, bottom: 1, left: 1, right: 1 },
      round: 'ceil',
    },
    {
      name: 'dilation 2, stride 1',
      x: [2, 9, 8, 2],
      w: [3, 3, 2, 3],
      s: [1, 1],
      d: [2, 2],
      pads: { top: 2, bottom: 2, left: 1, right: 3 },
    },
    {
      name: 'dilation 2, stride 2 (both > 1)',
      x: [2, 11, 10, 2],
      w: [3, 2, 2, 3],
      s: [2, 2],
      d: [2, 2],
      pads: { top: 1, bottom: 0, left: 0, right: 2 },
    },
    {
      name: 'dilation [2, 3], stride [3, 1]',
      x: [1, 12, 11, 3],
      w: [2, 3, 3, 2],
      s: [3, 1],
      d: [2, 3],
      pads: { top: 0, bottom: 1, left: 3, right: 0 },
    },
    {
      name: 'dilation [2, 3], stride [3, 1], 4 -> 8 channels',
      x: [2, 12, 11, 4],
      w: [2, 3, 4, 8],
      s: [3, 1],
      d: [2, 3],
      pads: { top: 0, bottom: 1, left: 3, right: 0 },
    },
    {
      name: 'stride 2, numeric pad 1, ceil rounding, 8 -> 8 channels',
      x: [2, 8, 8, 8],
      w: [3, 3, 8, 8],
      s: [2, 2],
      d: [1, 1],
      pads: { top: 1, bottom: 1, left: 1, right: 1 },
      round: 'ceil',
    },
  ];
  for (const c of dilated) {
    it.each(METHODS)(
      `${c.name}: Conv2DBackpropFilter / Input called directly match a float64 reference (%s)`,
      async (method) => {
        const pad = c.round
          ? c.pads.top
          : [
              [0, 0],
              [c.pads.top, c.pads.bottom],
              [c.pads.left, c.pads.right],
              [0, 0],
            ];
        const info = tf.backend_util.computeConv2DInfo(
          c.x as any,
          c.w as any,
          c.s,
          c.d,
          pad as any,
          c.round,
        );
        if (c.round) expect(info.outShape.slice(1, 3)).toEqual([5, 5]);
        const xv = randomValues(size(c.x), 7);
        const wv = randomValues(size(c.w), 8);
        const dyv = randomValues(size(info.outShape), 9);
        const ref = referenceConv(xv, c.x, wv, c.w, c.s, c.d, c.pads, info.outShape, false);
        const [dw, dx] = await withTuning(methodTuning(method), () =>
          runOn('wasm', () => {
            const attrs = { strides: c.s, pad, dilations: c.d, dataFormat: 'NHWC' };
            const x = tf.tensor(xv, c.x);
            const dy = tf.tensor(dyv, info.outShape);
            const w = tf.tensor(wv, c.w);
            return [
              tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
                ...attrs,
                filterShape: c.w,
              } as any) as tf.Tensor,
              tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
                ...attrs,
                inputShape: c.x,
              } as any) as tf.Tensor,
            ];
          }),
        );
        expectClose(dw, ref.dw(dyv), `${c.name} dW`);
        expectClose(dx, ref.dx(dyv), `${c.name} dX`);
      },
    );
  }

  it('Conv2DBackpropFilter agrees with finite differences of the wasm forward convolution', async () => {
    await use('wasm');
    const xShape: [number, number, number, number] = [2, 8, 7, 3];
    const wShape: [number, number, number, number] = [3, 3, 3, 4];
    const x = tf.tensor4d(randomValues(size(xShape), 10), xShape);
    const w0 = randomValues(size(wShape), 11);
    const probe = tf.tidy(() => tf.conv2d(x, tf.tensor4d(w0, wShape), 2, 'same'));
    const r = tf.tensor(randomValues(probe.size, 12), probe.shape);
    probe.dispose();
    const loss = (wv: Float32Array) =>
      tf.tidy(
        () => tf.sum(tf.mul(tf.conv2d(x, tf.tensor4d(wv, wShape), 2, 'same'), r)).dataSync()[0],
      );
    const analytic = tf.tidy(() =>
      tf
        .grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'), r)))(
          tf.tensor4d(w0, wShape),
        )
        .dataSync(),
    );
    const eps = 0.05; // the loss is linear in w: the central difference is exact up to rounding
    for (const i of [0, 5, 17, 42, 63, 77, 100, 107]) {
      const plus = Float32Array.from(w0);
      const minus = Float32Array.from(w0);
      plus[i] += eps;
      minus[i] -= eps;
      const fd = (loss(plus) - loss(minus)) / (plus[i] - minus[i]);
      expect(Math.abs(fd - analytic[i])).toBeLessThan(2e-3 * Math.max(1, Math.abs(analytic[i])));
    }
    // The check can fail: a wrong gradient entry would be off by O(1).
    expect(analytic.some((v) => Math.abs(v) > 0.1)).toBe(true);
    tf.dispose([x, r]);
  });
});

describe('conv2d forward (Conv2D: convkit direct or XNNPACK)', () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    strides: number | [number, number];
    pad: Pad;
    dilations?: number | [number, number];
    round?: 'floor' | 'ceil' | 'round';
    /** tfjs-wasm's own kernel disagrees with tfjs-cpu here: only the direct one is compared. */
    directOnly?: boolean;
  }[] = [
    {
      name: 'dilation 2, same',
      x: [2, 9, 10, 5],
      w: [3, 3, 5, 8],
      strides: 1,
      pad: 'same',
      dilations: 2,
    },
    {
      name: 'dilation [2, 1], explicit pads',
      x: [2, 10, 12, 6],
      w: [3, 2, 6, 8],
      strides: 1,
      pad: [
        [0, 0],
        [1, 2],
        [2, 3],
        [0, 0],
      ],
      dilations: [2, 1],
    },
    {
      name: 'stride [2, 3], 5x4 kernel, asymmetric pads',
      x: [1, 12, 13, 3],
      w: [5, 4, 3, 8],
      strides: [2, 3],
      pad: [
        [0, 0],
        [2, 1],
        [3, 0],
        [0, 0],
      ],
    },
    {
      name: 'numeric pad 3, ceil rounding, stride 2',
      x: [2, 10, 11, 4],
      w: [3, 3, 4, 16],
      strides: 2,
      pad: 3,
      round: 'ceil',
      directOnly: true,
    },
    { name: 'rows exactly 4 wide', x: [2, 8, 4, 7], w: [3, 3, 7, 8], strides: 1, pad: 'same' },
    { name: 'rows 3 wide (XNNPACK)', x: [2, 8, 3, 8], w: [3, 3, 8, 8], strides: 1, pad: 'same' },
    {
      name: '1x1, 16 -> 24 channels',
      x: [3, 7, 7, 16],
      w: [1, 1, 16, 24],
      strides: 1,
      pad: 'valid',
    },
    {
      name: '12 outputs (a part block)',
      x: [2, 6, 6, 8],
      w: [3, 3, 8, 12],
      strides: 1,
      pad: 'same',
    },
    {
      name: "LeNet-5's first layer: 1 -> 6",
      x: [3, 12, 12, 1],
      w: [5, 5, 1, 6],
      strides: 1,
      pad: 2,
    },
    { name: '1 output, stride 2', x: [2, 11, 10, 5], w: [3, 3, 5, 1], strides: 2, pad: 'same' },
    // With the 6, 12 and 29 outputs above, every count of lanes the last block stores (1 to 7).
    { name: '2 outputs', x: [1, 5, 8, 3], w: [2, 2, 3, 2], strides: 1, pad: 'valid' },
    { name: '3 outputs', x: [2, 7, 9, 4], w: [3, 3, 4, 3], strides: 1, pad: 'same' },
    { name: '7 outputs', x: [2, 6, 7, 5], w: [3, 3, 5, 7], strides: 1, pad: 'same' },
    {
      name: '29 outputs: 4 blocks, the last a part',
      x: [2, 9, 9, 3],
      w: [3, 3, 3, 29],
      strides: 1,
      pad: 'valid',
    },
  ];
  for (const c of cases) {
    const methods = c.directOnly ? (['auto'] as const) : (['auto', 'xnnpack'] as const);
    it.each(methods)(`${c.name} (%s)`, async (conv) => {
      const xv = randomValues(size(c.x), 1);
      const wv = randomValues(size(c.w), 2);
      await withTuning({ conv }, () =>
        compareBackends(c.name, () =>
          tf.conv2d(
            tf.tensor4d(xv, c.x as [number, number, number, number]),
            tf.tensor4d(wv, c.w as [number, number, number, number]),
            c.strides,
            c.pad as any,
            'NHWC',
            c.dilations ?? 1,
            c.round,
          ),
        ),
      );
    });
  }

  it('packs a filter once, keeps it while the filter lives, and frees it with the filter', async () => {
    await use('wasm');
    const backend = tf.backend() as unknown as Parameters<typeof packedFilterCount>[0];
    const x = tf.tensor4d(randomValues(2 * 6 * 6 * 8, 1), [2, 6, 6, 8]);
    const w = tf.tensor4d(randomValues(9 * 8 * 16, 2), [3, 3, 8, 16]);
    const before = packedFilterCount(backend);
    const tensors = tf.memory().numTensors;
    await withTuning({ conv: 'auto' }, async () => {
      const first = tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync());
      expect(packedFilterCount(backend)).toBe(before + 1);
      const again = tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync());
      expect(packedFilterCount(backend)).toBe(before + 1);
      expect(again).toEqual(first);
      // A gradient's rotated filter lives in its kernel's scope: packed, then freed with it.
      tf.tidy(() => {
        tf.grad((xx: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, w, 1, 'same').sum())(x);
      });
      expect(packedFilterCount(backend)).toBe(before + 1);
    });
    w.dispose();
    expect(packedFilterCount(backend)).toBe(before);
    x.dispose();
    expect(tf.memory().numTensors).toBe(tensors - 2);
  });

  it('auto takes the direct convolution wherever rows are 4 wide', async () => {
    const method = (x: number[], w: number[], strides = 1) =>
      conv2dMethod(
        nhwcConvInfo(x as Shape4, w as Shape4, { strides, pad: 'same', dilations: 1 }, false),
      );
    expect(method([8, 32, 32, 3], [3, 3, 3, 16])).toBe('direct'); // an RGB stem
    expect(method([64, 14, 14, 6], [5, 5, 6, 16])).toBe('direct'); // LeNet-5's second layer
    expect(method([1, 7, 7, 512], [3, 3, 512, 512])).toBe('winograd');
    expect(method([8, 16, 16, 32], [3, 3, 32, 32])).toBe('winograd');
    expect(method([8, 32, 32, 16], [3, 3, 16, 16])).toBe('winograd');
    expect(method([8, 32, 32, 8], [3, 3, 8, 16])).toBe('direct'); // under 16 channels
    expect(method([8, 16, 16, 32], [3, 3, 32, 36])).toBe('direct'); // outputs not in eights
    expect(method([8, 16, 16, 34], [3, 3, 34, 32])).toBe('direct'); // inputs not in fours
    expect(method([8, 16, 16, 32], [3, 3, 32, 32], 2)).toBe('direct'); // stride 2
    expect(method([8, 16, 16, 32], [5, 5, 32, 32])).toBe('direct'); // 5x5
    expect(method([64, 28, 28, 1], [5, 5, 1, 6])).toBe('direct'); // 6 outputs: a part block
    expect(method([8, 32, 32, 16], [3, 3, 16, 12])).toBe('direct'); // 12 outputs
    expect(method([8, 6, 6, 16], [3, 3, 16, 16], 2)).toBe('xnnpack'); // 3-pixel rows
    expect(method([8, 8, 8, 16], [1, 1, 16, 16], 2)).toBe('direct'); // 4-pixel rows
    await withTuning({ conv: 'direct' }, async () => {
      expect(method([1, 7, 7, 512], [3, 3, 512, 512])).toBe('direct');
    });
    // tfjs's environment flag, for users: Winograd off, the direct convolution instead.
    tf.env().set('CONVKIT_WASM_WINOGRAD', false);
    try {
      expect(method([1, 7, 7, 512], [3, 3, 512, 512])).toBe('direct');
    } finally {
      tf.env().set('CONVKIT_WASM_WINOGRAD', true);
    }
    await withTuning({ conv: 'xnnpack' }, async () => {
      expect(method([1, 7, 7, 512], [3, 3, 512, 512])).toBe('xnnpack');
    });
  });
});

describe('Winograd F(2x2, 3x3) convolution (Conv2D, its stride-1 input gradient, its filter gradient)', () => {
  // Winograd from 4 channels here (auto: from 16, 32 for the filter gradient), so that small
  // shapes reach every path.
  const winograd = { conv: 'auto', winogradMinChannels: 4, winogradFilterMinChannels: 4 } as const;
  const cases: { name: string; x: Shape4; w: Shape4; pad: Pad; tuning?: Partial<typeof tuning> }[] =
    [
      { name: 'same, 8 -> 16', x: [2, 8, 8, 8], w: [3, 3, 8, 16], pad: 'same' },
      // Odd output sizes: the last tiles of a row and of a column are half outside.
      { name: 'valid, odd output 7x5', x: [2, 9, 7, 4], w: [3, 3, 4, 8], pad: 'valid' },
      {
        name: 'asymmetric explicit pads, 12 -> 8',
        x: [1, 6, 7, 12],
        w: [3, 3, 12, 8],
        pad: [
          [0, 0],
          [2, 0],
          [0, 1],
          [0, 0],
        ],
      },
      // Chunks of 8 tiles (the smallest): several a thread, the last with spare tiles.
      {
        name: 'chunks of 8 tiles, 3 images of 5x5',
        x: [3, 5, 5, 8],
        w: [3, 3, 8, 16],
        pad: 'same',
        tuning: { winogradChunkBytes: 1, winogradFilterChunkBytes: 1 },
      },
      // A filter larger than the planes of the batch: on 2 threads, split by outputs.
      { name: 'few tiles, 64 -> 64', x: [1, 6, 6, 64], w: [3, 3, 64, 64], pad: 'same' },
      // Filter-gradient sums over the byte limit: the threads split the input channels
      // instead of taking groups of tiles.
      {
        name: 'filter gradient by channels, 16 -> 8',
        x: [2, 7, 6, 16],
        w: [3, 3, 16, 8],
        pad: 'same',
        tuning: { winogradFilterGroupBytes: 0 },
      },
    ];
  for (const c of cases) {
    it(`${c.name}: forward and both gradients as the cpu backend`, async () => {
      const info = nhwcConvInfo(c.x, c.w, { strides: 1, pad: c.pad as never, dilations: 1 }, false);
      await withTuning({ ...winograd, ...c.tuning }, async () => {
        expect(conv2dMethod(info)).toBe('winograd');
        const xv = randomValues(size(c.x), 1);
        const wv = randomValues(size(c.w), 2);
        await compareBackends(c.name, () => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, c.w);
          const y = tf.conv2d(x, w, 1, c.pad as never);
          const dy = tf.tensor(randomValues(y.size, 3), y.shape);
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad as never), dy));
          return [y, ...tf.grads(f)([x, w])];
        });
      });
    });
  }

  it('is as accurate as the direct convolution against a float64 reference (within 2x)', async () => {
    const [xs, ws]: [Shape4, Shape4] = [
      [2, 10, 10, 64],
      [3, 3, 64, 64],
    ];
    const xv = randomValues(size(xs), 4);
    const wv = randomValues(size(ws), 5);
    const dyv = randomValues(size(xs), 6); // 'same': dy has x's shape
    const y64 = new Float64Array(size(xs));
    const dw64 = new Float64Array(size(ws));
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 10; p++)
        for (let q = 0; q < 10; q++)
          for (let a = 0; a < 3; a++)
            for (let e = 0; e < 3; e++) {
              const [r, col] = [p + a - 1, q + e - 1];
              if (r < 0 || r >= 10 || col < 0 || col >= 10) continue;
              const yBase = ((b * 10 + p) * 10 + q) * 64;
              for (let i = 0; i < 64; i++) {
                const xi = xv[((b * 10 + r) * 10 + col) * 64 + i];
                const wBase = ((a * 3 + e) * 64 + i) * 64;
                for (let o = 0; o < 64; o++) {
                  y64[yBase + o] += xi * wv[wBase + o];
                  dw64[wBase + o] += xi * dyv[yBase + o];
                }
              }
            }
    const worst = (got: Float32Array, want: Float64Array) =>
      got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    /** The worst errors of y and dW by `conv` ('direct' turns Winograd off everywhere). */
    const errors = async (conv: 'auto' | 'direct') => {
      await use('wasm');
      return withTuning({ conv }, async () =>
        tf.tidy(() => {
          const [x, w, dy] = [tf.tensor4d(xv, xs), tf.tensor4d(wv, ws), tf.tensor4d(dyv, xs)];
          const y = tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array;
          const dw = tf.grad((ww: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, 1, 'same'), dy)),
          )(w);
          return [worst(y, y64), worst(dw.dataSync() as Float32Array, dw64)];
        }),
      );
    };
    await withTuning({ conv: 'auto' }, async () => {
      expect(
        conv2dMethod(nhwcConvInfo(xs, ws, { strides: 1, pad: 'same', dilations: 1 }, false)),
      ).toBe('winograd');
    });
    const [[yWinograd, dwWinograd], [yDirect, dwDirect]] = [
      await errors('auto'),
      await errors('direct'),
    ];
    expect(Math.min(yWinograd, dwWinograd)).toBeGreaterThan(0);
    // Measured 0.46x for y (each plane sums 64 products, where the direct sum runs over 576)
    // and 0.52x for dW (summed in 4 groups of tiles; 0.75x in one).
    expect(yWinograd).toBeLessThan(2 * yDirect);
    expect(dwWinograd).toBeLessThan(2 * dwDirect);
  });

  it('packs a filter for each method it runs by, one at a time, freed with the filter', async () => {
    await use('wasm');
    const backend = tf.backend() as unknown as Parameters<typeof packedFilterCount>[0];
    const x = tf.tensor4d(randomValues(2 * 6 * 6 * 8, 1), [2, 6, 6, 8]);
    const w = tf.tensor4d(randomValues(9 * 8 * 16, 2), [3, 3, 8, 16]);
    const before = packedFilterCount(backend);
    const run = (conv: 'auto' | 'direct') =>
      withTuning({ ...winograd, conv }, async () =>
        tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync()),
      );
    const first = await run('auto');
    const direct = await run('direct');
    expect(packedFilterCount(backend)).toBe(before + 1);
    expect(await run('auto')).toEqual(first);
    expectClose(direct, first, 'direct against Winograd');
    w.dispose();
    expect(packedFilterCount(backend)).toBe(before);
    x.dispose();
  });
});

describe('depthwise conv2d gradients', () => {
  const cases: { name: string; x: number[]; w: number[]; strides: number; pad: Pad }[] = [
    {
      name: 'multiplier 1, stride 1 same',
      x: [2, 7, 7, 4],
      w: [3, 3, 4, 1],
      strides: 1,
      pad: 'same',
    },
    {
      name: 'multiplier 2, stride 1 valid',
      x: [2, 7, 8, 3],
      w: [3, 3, 3, 2],
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'multiplier 3, stride 2 same, odd size',
      x: [2, 9, 9, 2],
      w: [3, 3, 2, 3],
      strides: 2,
      pad: 'same',
    },
    {
      name: 'multiplier 1, stride 2 valid, H not aligned',
      x: [3, 10, 9, 5],
      w: [3, 3, 5, 1],
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'multiplier 2, stride 3 numeric pad 1',
      x: [1, 11, 10, 2],
      w: [3, 3, 2, 2],
      strides: 3,
      pad: 1,
    },
    { name: '5x5 kernel, batch 1', x: [1, 8, 8, 3], w: [5, 5, 3, 1], strides: 1, pad: 'same' },
  ];
  for (const c of cases) {
    it.each([true, false])(`${c.name} (simd %s)`, async (simd) => {
      const xv = randomValues(size(c.x), 21);
      const wv = randomValues(size(c.w), 22);
      await withTuning({ simd }, () =>
        compareBackends(c.name, () => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
          const f = (a: tf.Tensor, b: tf.Tensor) => {
            const y = tf.depthwiseConv2d(
              a as tf.Tensor4D,
              b as tf.Tensor4D,
              c.strides,
              c.pad as any,
            );
            return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 23), y.shape)));
          };
          return tf.grads(f)([x, w]);
        }),
      );
    });
  }

  it('explicit asymmetric pads and dilation 2 (kernels run directly) match a float64 reference', async () => {
    for (const [s, d, pads, mult] of [
      [[1, 1], [2, 2], { top: 1, bottom: 3, left: 2, right: 0 }, 2],
      [[2, 2], [1, 1], { top: 0, bottom: 2, left: 1, right: 1 }, 2],
      [[1, 1], [2, 2], { top: 1, bottom: 3, left: 2, right: 0 }, 1],
      [[2, 2], [1, 2], { top: 0, bottom: 2, left: 3, right: 1 }, 1],
    ] as [
      number[],
      number[],
      { top: number; bottom: number; left: number; right: number },
      number,
    ][]) {
      const xShape = [2, 9, 8, 6];
      const wShape = [3, 3, 6, mult];
      const pad = [
        [0, 0],
        [pads.top, pads.bottom],
        [pads.left, pads.right],
        [0, 0],
      ];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as any,
        wShape as any,
        s as any,
        d as any,
        pad as any,
        undefined,
        true,
      );
      const xv = randomValues(size(xShape), 24);
      const wv = randomValues(size(wShape), 25);
      const dyv = randomValues(size(info.outShape), 26);
      const ref = referenceConv(
        xv,
        xShape,
        wv,
        wShape,
        s as any,
        d as any,
        pads,
        info.outShape,
        true,
      );
      const [dw, dx] = await runOn('wasm', () => {
        const attrs = { strides: s, pad, dilations: d };
        const x = tf.tensor(xv, xShape);
        const dy = tf.tensor(dyv, info.outShape);
        const w = tf.tensor(wv, wShape);
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
            ...attrs,
            filterShape: wShape,
          } as any) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, {
            ...attrs,
            inputShape: xShape,
          } as any) as tf.Tensor,
        ];
      });
      expectClose(dw, ref.dw(dyv), `depthwise s${s} d${d} dW`);
      expectClose(dx, ref.dx(dyv), `depthwise s${s} d${d} dX`);
    }
  });
});

describe('fused conv2d (FusedConv2D: convkit direct + one bias / activation pass, or tfjs)', () => {
  const cases: {
    name: string;
    x: number[];
    w: number[];
    strides: 1 | 2;
    pad: Pad;
    activation: 'linear' | 'relu' | 'relu6' | 'elu';
    bias?: boolean;
    scale?: number;
  }[] = [
    {
      name: 'relu, bias, 5 outputs',
      x: [2, 9, 9, 3],
      w: [3, 3, 3, 5],
      strides: 1,
      pad: 'same',
      activation: 'relu',
      bias: true,
    },
    {
      name: 'LeNet-5 first layer, relu',
      x: [2, 12, 12, 1],
      w: [5, 5, 1, 6],
      strides: 1,
      pad: 2,
      activation: 'relu',
      bias: true,
    },
    {
      name: 'linear, bias, stride 2',
      x: [2, 11, 10, 4],
      w: [3, 3, 4, 8],
      strides: 2,
      pad: 'same',
      activation: 'linear',
      bias: true,
    },
    {
      name: 'relu, bias, 32 -> 32 (Winograd)',
      x: [2, 7, 6, 32],
      w: [3, 3, 32, 32],
      strides: 1,
      pad: 'same',
      activation: 'relu',
      bias: true,
    },
    {
      name: 'relu, no bias',
      x: [3, 8, 8, 2],
      w: [3, 3, 2, 7],
      strides: 1,
      pad: 'valid',
      activation: 'relu',
    },
    {
      name: 'relu6 with values above 6',
      x: [2, 8, 8, 3],
      w: [3, 3, 3, 4],
      strides: 1,
      pad: 'same',
      activation: 'relu6',
      bias: true,
      scale: 8,
    },
    {
      name: 'elu (tfjs kernel)',
      x: [2, 8, 8, 3],
      w: [3, 3, 3, 4],
      strides: 1,
      pad: 'same',
      activation: 'elu',
      bias: true,
    },
    {
      name: 'rows under 4 wide (tfjs kernel)',
      x: [2, 5, 3, 2],
      w: [3, 3, 2, 4],
      strides: 1,
      pad: 'valid',
      activation: 'relu',
      bias: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const xv = randomValues(size(c.x), 51).map((v) => v * (c.scale ?? 1));
      const wv = randomValues(size(c.w), 52);
      const bv = randomValues(c.w[3], 53);
      const make = () => ({
        x: tf.tensor4d(xv, c.x as [number, number, number, number]),
        filter: tf.tensor4d(wv, c.w as [number, number, number, number]),
        bias: c.bias ? tf.tensor1d(bv) : undefined,
      });
      const fused = (t: ReturnType<typeof make>) =>
        tf.fused.conv2d({ ...t, strides: c.strides, pad: c.pad, activation: c.activation });
      await compareBackends(`${c.name} forward`, () => fused(make()));
      if (c.activation !== 'linear' && c.activation !== 'relu') return; // tfjs has no other gradients
      await compareBackends(`${c.name} gradients`, () => {
        const t = make();
        const r = tf.tensor(randomValues(size(fused(t).shape), 54), fused(t).shape);
        const loss = (xx: tf.Tensor, ww: tf.Tensor, ...bb: tf.Tensor[]) =>
          tf.sum(
            tf.mul(
              fused({
                x: xx as tf.Tensor4D,
                filter: ww as tf.Tensor4D,
                bias: bb[0] as tf.Tensor1D | undefined,
              }),
              r,
            ),
          );
        return tf.grads(loss)(t.bias ? [t.x, t.filter, t.bias] : [t.x, t.filter]);
      });
    });
  }

  it('ReLU keeps a NaN, as tfjs and PyTorch', async () => {
    const xv = randomValues(2 * 6 * 6 * 1, 55);
    xv[7] = Number.NaN;
    const [y] = await runOn('wasm', () =>
      tf.fused.conv2d({
        x: tf.tensor4d(xv, [2, 6, 6, 1]),
        filter: tf.ones([1, 1, 1, 4]) as tf.Tensor4D,
        bias: tf.tensor1d([-10, 0, 1, 2]),
        strides: 1,
        pad: 'valid',
        activation: 'relu',
      }),
    );
    expect(Array.from(y.slice(28, 32)).every(Number.isNaN)).toBe(true);
    expect(y.filter((v) => Number.isNaN(v))).toHaveLength(4);
    expect(y[0]).toBe(0); // the -10 bias clamps
  });
});

describe('fused matMul (_FusedMatMul: convkit BatchMatMul + one bias / activation pass, or tfjs)', () => {
  const cases: {
    name: string;
    a: number[];
    b: number[];
    transposeA?: boolean;
    transposeB?: boolean;
    activation: 'linear' | 'relu' | 'relu6' | 'elu';
    bias?: boolean;
  }[] = [
    {
      name: 'dense 40 -> 12, bias, relu',
      a: [16, 40],
      b: [40, 12],
      activation: 'relu',
      bias: true,
    },
    {
      name: 'b transposed, 7 outputs, linear',
      a: [9, 10],
      b: [7, 10],
      transposeB: true,
      activation: 'linear',
      bias: true,
    },
    {
      name: 'a transposed, no bias, relu',
      a: [10, 6],
      b: [10, 5],
      transposeA: true,
      activation: 'relu',
    },
    { name: 'batched a, bias, relu6', a: [2, 5, 7], b: [7, 6], activation: 'relu6', bias: true },
    {
      name: '2 rows (XNNPACK product, convkit pass)',
      a: [2, 8],
      b: [8, 3],
      activation: 'relu',
      bias: true,
    },
    { name: 'elu (tfjs kernel)', a: [6, 8], b: [8, 3], activation: 'elu', bias: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const av = randomValues(size(c.a), 61).map((v) => v * 4);
      const bv = randomValues(size(c.b), 62);
      const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
      const biasValues = randomValues(n, 63);
      const fused = (a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor) =>
        tf.fused.matMul({
          a,
          b,
          bias,
          transposeA: c.transposeA,
          transposeB: c.transposeB,
          activation: c.activation,
        });
      const make = () => [
        tf.tensor(av, c.a),
        tf.tensor(bv, c.b),
        ...(c.bias ? [tf.tensor1d(biasValues)] : []),
      ];
      await compareBackends(`${c.name} forward`, () =>
        fused(...(make() as [tf.Tensor, tf.Tensor])),
      );
      if (c.activation !== 'linear' && c.activation !== 'relu') return; // tfjs has no other gradients
      await compareBackends(`${c.name} gradients`, () => {
        const inputs = make();
        const y = fused(...(inputs as [tf.Tensor, tf.Tensor]));
        const r = tf.tensor(randomValues(y.size, 64), y.shape);
        const loss = (...t: tf.Tensor[]) =>
          tf.sum(tf.mul(fused(...(t as [tf.Tensor, tf.Tensor])), r));
        return tf.grads(loss)(inputs);
      });
    });
  }
});

describe('maxPool forward (MaxPool: convkit 2x2 / stride 2 or tfjs)', () => {
  const cases: {
    name: string;
    x: number[];
    pad: 'valid' | 'same';
    values?: (v: Float32Array) => Float32Array;
  }[] = [
    { name: '6 channels (overlapping groups of 4), LeNet-5', x: [3, 8, 10, 6], pad: 'valid' },
    {
      name: '4 channels, all negative',
      x: [2, 6, 6, 4],
      pad: 'valid',
      values: (v) => v.map((a) => -1 - Math.abs(a)),
    },
    { name: 'odd size: a row and a column left over', x: [2, 9, 7, 5], pad: 'valid' },
    { name: '9 channels, same (partial windows: tfjs)', x: [2, 7, 9, 9], pad: 'same' },
    { name: '3 channels (tfjs)', x: [2, 6, 6, 3], pad: 'valid' },
    {
      name: '-Infinity windows',
      x: [1, 4, 4, 4],
      pad: 'valid',
      values: (v) => v.map((a, i) => (i < 8 || (i >= 16 && i < 24) ? Number.NEGATIVE_INFINITY : a)),
    },
    // Large enough to split between the kernel threads where they run.
    { name: '[16, 28, 28, 12] (split by rows)', x: [16, 28, 28, 12], pad: 'valid' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      let xv = randomValues(size(c.x), 33);
      if (c.values) xv = c.values(xv);
      await compareBackends(c.name, () =>
        tf.maxPool(tf.tensor4d(xv, c.x as [number, number, number, number]), 2, 2, c.pad),
      );
    });
  }

  it('a window holding NaN gives NaN, as PyTorch; the others their maximum', async () => {
    const xv = Float32Array.from({ length: 4 * 4 * 4 }, (_, i) => (i * 7) % 13);
    xv[2 * 4 + 1] = Number.NaN; // pixel (0, 2), channel 1: window (0, 1)
    const [y] = await runOn('wasm', () => tf.maxPool(tf.tensor4d(xv, [1, 4, 4, 4]), 2, 2, 'valid'));
    const at = (r: number, q: number, ch: number) => xv[(r * 4 + q) * 4 + ch];
    for (let p = 0; p < 2; p++) {
      for (let q = 0; q < 2; q++) {
        for (let ch = 0; ch < 4; ch++) {
          const got = y[(p * 2 + q) * 4 + ch];
          if (p === 0 && q === 1 && ch === 1) {
            expect(got).toBeNaN();
            continue;
          }
          const taps = [
            at(2 * p, 2 * q, ch),
            at(2 * p, 2 * q + 1, ch),
            at(2 * p + 1, 2 * q, ch),
            at(2 * p + 1, 2 * q + 1, ch),
          ];
          expect(got).toBe(Math.max(...taps));
        }
      }
    }
  });
});

describe('maxPool gradient (MaxPoolGrad)', () => {
  const cases: {
    name: string;
    x: number[];
    f: number | [number, number];
    s: number | [number, number];
    pad: 'same' | 'valid' | number;
    values?: (v: Float32Array) => Float32Array;
  }[] = [
    { name: '2x2 stride 2 valid (LeNet)', x: [2, 8, 8, 3], f: 2, s: 2, pad: 'valid' },
    {
      name: 'all values negative',
      x: [2, 6, 6, 2],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a) => -1 - Math.abs(a)),
    },
    {
      name: 'ties: first maximum wins',
      x: [2, 6, 7, 3],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a) => Math.round(a)),
    },
    {
      name: 'ties after relu (zeros), overlapping 3x3 stride 1',
      x: [1, 6, 6, 2],
      f: 3,
      s: 1,
      pad: 'valid',
      values: (v) => v.map((a) => Math.max(0, Math.round(a * 2) / 2)),
    },
    {
      name: 'overlapping 3x3 stride 2 same, negative',
      x: [2, 9, 8, 2],
      f: 3,
      s: 2,
      pad: 'same',
      values: (v) => v.map((a) => a - 2),
    },
    { name: 'numeric pad 1, 3x3 stride 2', x: [2, 7, 7, 2], f: 3, s: 2, pad: 1 },
    { name: 'stride 3, odd size, H not aligned', x: [2, 11, 10, 3], f: [2, 3], s: 3, pad: 'valid' },
    {
      name: 'rectangular window, stride [1, 2], same',
      x: [1, 7, 9, 4],
      f: [3, 2],
      s: [1, 2],
      pad: 'same',
    },
    // 2x2 / stride 2 with at least 4 channels: the SIMD kernel (6 channels: overlapping groups)
    {
      name: 'SIMD: 6 channels, ties and negatives',
      x: [3, 8, 10, 6],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a) => Math.round(a * 2) / 2 - 0.5),
    },
    {
      name: 'SIMD: 4 channels, all negative',
      x: [2, 6, 6, 4],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a) => -1 - Math.abs(a)),
    },
    {
      name: 'SIMD: 9 channels, odd size with same (partial windows)',
      x: [2, 7, 9, 9],
      f: 2,
      s: 2,
      pad: 'same',
    },
    {
      name: 'SIMD: odd size valid (a row and a column left over)',
      x: [2, 9, 7, 5],
      f: 2,
      s: 2,
      pad: 'valid',
    },
    {
      name: 'SIMD: ties after relu (zeros)',
      x: [2, 8, 8, 8],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a) => Math.max(0, a)),
    },
    // 2^17 floats: split by images between the kernel threads where they run (threads suite).
    { name: 'SIMD: 5 images of 64x64x8', x: [5, 64, 64, 8], f: 2, s: 2, pad: 'valid' },
    {
      name: 'SIMD: 5 images, a NaN in the last (its share flags it: the scan redoes all)',
      x: [5, 64, 64, 8],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) => v.map((a, i) => (i === v.length - 3 ? Number.NaN : a)),
    },
    {
      name: 'SIMD: -Infinity windows and a NaN (falls back to the scan)',
      x: [1, 4, 4, 4],
      f: 2,
      s: 2,
      pad: 'valid',
      values: (v) =>
        v.map((a, i) =>
          i < 8 || (i >= 16 && i < 24) ? Number.NEGATIVE_INFINITY : i === 42 ? Number.NaN : a,
        ),
    },
  ];
  for (const c of cases) {
    it.each([true, false])(`${c.name} (simd %s)`, async (simd) => {
      let xv = randomValues(size(c.x), 31);
      if (c.values) xv = c.values(xv);
      const [dx] = await withTuning({ simd }, () =>
        compareBackends(c.name, () => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const f = (a: tf.Tensor) => {
            const y = tf.maxPool(a as tf.Tensor4D, c.f, c.s, c.pad);
            return tf.sum(
              tf.mul(
                y,
                tf.tensor(
                  randomValues(y.size, 32).map((v) => v + 2),
                  y.shape,
                ),
              ),
            );
          };
          return tf.grads(f)([x]);
        }),
      );
      // Every window passes its gradient somewhere: no window is lost (tfjs-wasm's bug).
      expect(dx.some((v) => v !== 0)).toBe(true);
    });
  }

  it('an all-negative window passes its gradient to its first maximum', async () => {
    const [dx] = await runOn('wasm', () => {
      const x = tf.tensor4d([-3, -1, -2, -1], [1, 2, 2, 1]);
      return tf.grad((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), 5)),
      )(x);
    });
    expect(Array.from(dx)).toEqual([0, 5, 0, 0]);
  });
});

describe('UnsortedSegmentSum and the gather gradient', () => {
  it('ids out of order, repeated, missing, and numSegments above the largest id', async () => {
    const xv = randomValues(7 * 3, 41);
    await compareBackends('segment sum', () =>
      tf.unsortedSegmentSum(
        tf.tensor2d(xv, [7, 3]),
        tf.tensor1d([4, 0, 4, 2, 0, 4, 1], 'int32'),
        8,
      ),
    );
  });

  it('rank-2 segment ids over a rank-3 x', async () => {
    // (tfjs-cpu's kernel fails to broadcast here, so the expectation is computed directly.)
    const xv = randomValues(2 * 3 * 4, 42);
    const ids = [3, 1, 3, 0, 1, 1];
    const expected = new Float64Array(5 * 4);
    ids.forEach((id, j) => {
      for (let k = 0; k < 4; k++) expected[id * 4 + k] += xv[j * 4 + k];
    });
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor3d(xv, [2, 3, 4]),
        tf.tensor2d(ids, [2, 3], 'int32') as unknown as tf.Tensor1D,
        5,
      ),
    );
    expectClose(out, expected, 'segment sum rank 2');
  });

  it('int32 values', async () => {
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor1d([1, 2, 3, 4, 5], 'int32'),
        tf.tensor1d([2, 0, 2, 1, 0], 'int32'),
        4,
      ),
    );
    expect(Array.from(out)).toEqual([7, 4, 4, 0]);
  });

  it('gradient of gather (axis 0 and 1, repeated indices)', async () => {
    const xv = randomValues(6 * 5, 43);
    await compareBackends('gather grad', () => {
      const x = tf.tensor2d(xv, [6, 5]);
      const f = (a: tf.Tensor) => {
        const g0 = tf.gather(a, tf.tensor1d([5, 1, 1, 3, 0, 5, 5], 'int32'), 0);
        const g1 = tf.gather(a, tf.tensor1d([4, 4, 0, 2], 'int32'), 1);
        return tf.add(
          tf.sum(tf.mul(g0, tf.tensor(randomValues(g0.size, 44), g0.shape))),
          tf.sum(tf.square(g1)),
        );
      };
      return tf.grads(f)([x]);
    });
  });
});

describe('BatchMatMul with transposes (the dense layers backward pass)', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    // 13 rows: convkit's kernels in `auto` (11 outputs: a part block of the 1x1 convolution).
    it.each(['auto', 'xnnpack'] as const)(
      `transposeA ${ta}, transposeB ${tb} (%s)`,
      async (matMul) => {
        const av = randomValues(13 * 17, 51);
        const bv = randomValues(17 * 11, 52);
        await withTuning({ matMul }, () =>
          compareBackends(`matmul ${ta} ${tb}`, () =>
            tf.matMul(
              tf.tensor2d(av, ta ? [17, 13] : [13, 17]),
              tf.tensor2d(bv, tb ? [11, 17] : [17, 11]),
              ta,
              tb,
            ),
          ),
        );
      },
    );
  }

  it('fewer than 4 rows (XNNPACK), and a product split between threads', async () => {
    const av = randomValues(70 * 33, 56);
    const bv = randomValues(33 * 40, 57);
    await compareBackends('matmul rows', () => [
      tf.matMul(tf.tensor2d(av.slice(0, 3 * 33), [3, 33]), tf.tensor2d(bv, [33, 40])),
      tf.matMul(tf.tensor2d(av, [70, 33]), tf.tensor2d(bv, [33, 40])),
      tf.matMul(tf.tensor2d(av, [70, 33]), tf.tensor2d(bv, [40, 33]), false, true),
    ]);
  });

  it('batched a times an unbatched b, and batched b', async () => {
    const av = randomValues(3 * 5 * 7, 53);
    const bv = randomValues(7 * 4, 54);
    const cv = randomValues(3 * 4 * 7, 55);
    await compareBackends('batched matmul', () => [
      tf.matMul(tf.tensor3d(av, [3, 5, 7]), tf.tensor2d(bv, [4, 7]), false, true),
      tf.matMul(tf.tensor3d(av, [3, 5, 7]), tf.tensor2d(bv, [7, 4])),
      tf.matMul(tf.tensor3d(av, [3, 5, 7]), tf.tensor3d(cv, [3, 4, 7]), false, true),
    ]);
  });
});

/**
 * Batch-norm inputs: tails past the last whole block (C = 3: blocks of 12), several chunks
 * (131072 floats), rank 2, and C = 10 (blocks of 20).
 */
const batchNormShapes = [
  [5, 7, 3],
  [8, 32, 32, 16],
  [64, 6],
  [4, 9, 9, 10],
];

describe('batch norm in train mode (batchNormTraining: ConvkitBatchNormForward / Backward)', () => {
  /** y, mean, variance, and the gradients of sum(y * r) in x, weight and bias. */
  const run = (shape: number[], affine: boolean) => () => {
    const c = shape[shape.length - 1];
    const x = tf
      .tensor(randomValues(size(shape), 91), shape)
      .mul(3)
      .add(0.5);
    const r = tf.tensor(randomValues(size(shape), 92), shape);
    const w = tf.tensor(randomValues(c, 93)).add(1.5);
    const b = tf.tensor(randomValues(c, 94));
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      batchNormTraining(xx, affine ? ww : undefined, affine ? bb : undefined, 1e-5)
        .y.mul(r)
        .sum();
    const { y, mean, variance } = batchNormTraining(
      x,
      affine ? w : undefined,
      affine ? b : undefined,
    );
    const grads = affine ? tf.grads(f)([x, w, b]) : [tf.grad((xx: tf.Tensor) => f(xx, w, b))(x)];
    return [y, mean, variance, ...grads];
  };
  for (const shape of batchNormShapes) {
    it.each([true, false])(`[${shape}] matches the cpu backend (simd %s)`, async (simd) => {
      await withTuning({ simd }, () => compareBackends('batch norm', run(shape, true), 1e-4));
    });
  }

  it('without weight and bias, the gradient of x matches the cpu backend', async () => {
    await compareBackends('batch norm', run([6, 5, 5, 8], false), 1e-4);
  });

  it('equals the composed formula and its autograd gradients (cpu)', async () => {
    const shape = [6, 5, 5, 8];
    const composed = () => {
      const x = tf
        .tensor(randomValues(size(shape), 91), shape)
        .mul(3)
        .add(0.5);
      const r = tf.tensor(randomValues(size(shape), 92), shape);
      const w = tf.tensor(randomValues(8, 93)).add(1.5);
      const b = tf.tensor(randomValues(8, 94));
      const normalize = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        return xx.sub(mean).div(variance.add(1e-5).sqrt()).mul(ww).add(bb);
      };
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => normalize(xx, ww, bb).mul(r).sum();
      return [normalize(x, w, b), mean, variance, ...tf.grads(f)([x, w, b])];
    };
    const expected = await runOn('cpu', composed);
    const actual = await runOn('cpu', run(shape, true));
    expected.forEach((e, i) => {
      expectClose(actual[i], e, `output ${i}`, 1e-4);
    });
    // And on wasm, in fused kernels.
    const fused = await runOn('wasm', run(shape, true));
    expected.forEach((e, i) => {
      expectClose(fused[i], e, `wasm output ${i}`, 1e-4);
    });
  });

  it('names the problem when the input or the parameters have the wrong shape', async () => {
    await use('wasm');
    expect(() => batchNormTraining(tf.zeros([4]))).toThrow(
      /batchNormTraining: expected channels-last input \[\.\.\., C\] of rank 2 or more, received shape \[4\]/,
    );
    expect(() => batchNormTraining(tf.zeros([4, 3]), tf.ones([4]))).toThrow(
      /batchNormTraining: expected weight of shape \[3\], received \[4\]/,
    );
  });

  it('leaves no tensor behind, forward and backward', async () => {
    await use('wasm');
    const x = tf.randomNormal([4, 6, 6, 5]);
    const w = tf.ones([5]);
    const before = tf.memory().numTensors;
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
      batchNormTraining(xx, ww).y.square().sum(),
    )([x, w]);
    tf.dispose(grads);
    tf.tidy(() => {
      batchNormTraining(x, w);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});

describe('batch norm in eval mode (batchNormInference: ConvkitBatchNormInference)', () => {
  /** y, and the gradients of sum(y * r) in x and in whichever of weight and bias are given. */
  const run = (shape: number[], weighted: boolean, biased: boolean) => () => {
    const c = shape[shape.length - 1];
    const x = tf
      .tensor(randomValues(size(shape), 71), shape)
      .mul(3)
      .add(0.5);
    const r = tf.tensor(randomValues(size(shape), 72), shape);
    const mean = tf.tensor(randomValues(c, 73));
    const variance = tf.tensor(randomValues(c, 74)).abs().add(0.1);
    const w = tf.tensor(randomValues(c, 75)).add(1.5);
    const b = tf.tensor(randomValues(c, 76));
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      batchNormInference(
        xx,
        mean,
        variance,
        weighted ? ww : undefined,
        biased ? bb : undefined,
        1e-3,
      )
        .mul(r)
        .sum();
    const grads = tf.grads((xx, ww, bb) => f(xx, ww, bb).add(ww.sum().add(bb.sum()).mul(0)))([
      x,
      w,
      b,
    ]);
    return [
      f(x, w, b),
      batchNormInference(x, mean, variance, weighted ? w : undefined, biased ? b : undefined, 1e-3),
      ...grads,
    ];
  };
  for (const shape of batchNormShapes) {
    it(`[${shape}] matches the cpu backend, forward and gradients`, async () => {
      await compareBackends('eval batch norm', run(shape, true, true), 1e-4);
    });
  }

  it.each([
    [false, false],
    [true, false],
    [false, true],
  ])('weight %s, bias %s: matches the cpu backend', async (weighted, biased) => {
    await compareBackends('eval batch norm', run([6, 5, 5, 8], weighted, biased), 1e-4);
  });

  it('runs as one fused kernel on wasm whose output has the bits of the composed form', async () => {
    await use('wasm');
    const shape = [2, 7, 7, 24];
    const x = tf.tensor(randomValues(size(shape), 81), shape).mul(4);
    const [mean, variance, w, b] = [82, 83, 84, 85].map((seed) =>
      tf.tensor(randomValues(24, seed)),
    );
    const v = variance.abs().add(0.01);
    const profile = await tf.profile(() => batchNormInference(x, mean, v, w, b));
    // (tf.customGrad's own record has no kernel name.)
    expect(profile.kernels.map((k) => k.name).filter(Boolean)).toEqual([
      'ConvkitBatchNormInference',
    ]);
    const fused = batchNormInference(x, mean, v, w, b).dataSync();
    const invStd = tf.rsqrt(tf.add(v, 1e-5));
    const scale = tf.mul(invStd, w);
    const composed = tf.add(tf.mul(x, scale), tf.sub(b, tf.mul(mean, scale))).dataSync();
    expect(Array.from(fused)).toEqual(Array.from(composed));
    tf.dispose([x, mean, variance, w, b, v, invStd, scale]);
  });

  it('names the statistic or parameter of the wrong shape', async () => {
    await use('wasm');
    const x = tf.zeros([4, 3]);
    expect(() => batchNormInference(x, tf.zeros([4]), tf.ones([3]))).toThrow(
      /batchNormInference: expected mean of shape \[3\] \(the input's last axis, input shape \[4,3\]\), received \[4\]/,
    );
    expect(() =>
      batchNormInference(x, tf.zeros([3]), tf.ones([3]), undefined, tf.zeros([1, 3])),
    ).toThrow(/expected bias of shape \[3\].*received \[1,3\]/);
  });

  it('leaves no tensor behind, forward and backward', async () => {
    await use('wasm');
    const x = tf.randomNormal([4, 6, 6, 5]);
    const [mean, variance, w, b] = [tf.zeros([5]), tf.ones([5]), tf.ones([5]), tf.zeros([5])];
    const before = tf.memory().numTensors;
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
      batchNormInference(xx, mean, variance, ww, b).square().sum(),
    )([x, w]);
    tf.dispose(grads);
    tf.tidy(() => {
      batchNormInference(x, mean, variance, w, b);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mean, variance, w, b]);
  });
});

describe('ReLU gradient (ConvkitReluGrad: dy * step(x) in one pass)', () => {
  /** The gradient of sum(relu(x) * r), with zeros, -0, NaN and infinities among x and r. */
  const run = (shape: number[]) => () => {
    const n = size(shape);
    const xs = randomValues(n, 61);
    const rs = randomValues(n, 62);
    xs[0] = 0;
    xs[1] = -0;
    xs[2] = Number.NaN;
    rs[3] = Number.POSITIVE_INFINITY;
    xs[3] = -1;
    const x = tf.tensor(xs, shape);
    const r = tf.tensor(rs, shape);
    return tf.grad((xx: tf.Tensor) => tf.relu(xx).mul(r).sum())(x);
  };
  // Tails of 1 to 3 floats past the last 4, and one large enough to split between threads.
  it.each([[[5]], [[2, 3, 7]], [[64, 28, 28, 6]], [[4, 33]]])(
    '%j equals the cpu backend',
    async (shape) => {
      const [expected] = await runOn('cpu', run(shape as number[]));
      const [actual] = await runOn('wasm', run(shape as number[]));
      // Every value the same, NaN for NaN and -0 for -0 included.
      const differs = Array.from(actual).findIndex((v, i) => !Object.is(v, expected[i]));
      expect(
        differs,
        `first difference at ${differs}: ${actual[differs]} vs ${expected[differs]}`,
      ).toBe(-1);
      expect(Number.isNaN(actual[2]), 'a NaN input passes NaN back').toBe(true);
    },
  );

  // The forward pass: convkit's SIMD pass from 2^17 floats on 2 threads, else tfjs's kernel.
  it.each([[[5]], [[2, 3, 7]], [[64, 28, 28, 6]], [[3, 43691]]])(
    'forward %j equals the cpu backend bit for bit',
    async (shape) => {
      const forward = () => {
        const xs = randomValues(size(shape as number[]), 64);
        [xs[0], xs[1], xs[2]] = [-0, Number.NaN, Number.NEGATIVE_INFINITY];
        xs[xs.length - 1] = -0.5; // the JS tail past the last 4 floats, where there is one
        return [tf.relu(tf.tensor(xs, shape as number[]))];
      };
      const [expected] = await runOn('cpu', forward);
      const [actual] = await runOn('wasm', forward);
      const differs = Array.from(actual).findIndex((v, i) => !Object.is(v, expected[i]));
      expect(
        differs,
        `first difference at ${differs}: ${actual[differs]} vs ${expected[differs]}`,
      ).toBe(-1);
    },
  );

  it('is one kernel on wasm, not a Step and a Multiply', async () => {
    await use('wasm');
    const x = tf.tensor(randomValues(40, 63), [4, 10]);
    const dy = tf.onesLike(x);
    const profile = await tf.profile(() =>
      tf.grad((xx: tf.Tensor) => tf.relu(xx).mul(dy).sum())(x),
    );
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('ConvkitReluGrad');
    expect(names).not.toContain('Step');
    tf.dispose([x, dy]);
  });
});

describe('bias add and bias-gradient sum (Add, Sum), Identity', () => {
  const adds: [number[], number[]][] = [
    [[3, 5, 7, 6], [6]],
    [[6], [3, 5, 7, 6]],
    [
      [4, 9, 8],
      [1, 1, 8],
    ],
    [[10, 5], [5]],
    [[64, 1], [1]],
    [
      [3, 4, 4],
      [3, 4, 4],
    ],
  ];
  for (const [sa, sb] of adds) {
    it.each([true, false])(`add [${sa}] + [${sb}] (simd %s)`, async (simd) => {
      const av = randomValues(size(sa), 81);
      const bv = randomValues(size(sb), 82);
      await withTuning({ simd }, () =>
        compareBackends('add', () => tf.add(tf.tensor(av, sa), tf.tensor(bv, sb)), 0),
      );
    });
  }

  const sums: [number[], number[], boolean][] = [
    [[3, 5, 7, 6], [0, 1, 2], false],
    [[3, 5, 7, 6], [2, 0, 1], true],
    [[10, 5], [0], false],
    [[4, 6, 3], [0, 1], false],
    [[4, 6, 3], [1], false],
    [[4, 6, 3], [-1], false],
  ];
  for (const [shape, axis, keepDims] of sums) {
    it.each([true, false])(
      `sum [${shape}] over [${axis}] keepDims ${keepDims} (simd %s)`,
      async (simd) => {
        const xv = randomValues(size(shape), 83);
        await withTuning({ simd }, () =>
          compareBackends('sum', () => tf.sum(tf.tensor(xv, shape), axis, keepDims)),
        );
        const shapeOn = async (backend: Backend) => {
          await use(backend);
          return tf.tidy(() => tf.sum(tf.tensor(xv, shape), axis, keepDims).shape);
        };
        expect(await withTuning({ simd }, () => shapeOn('wasm'))).toEqual(await shapeOn('cpu'));
      },
    );
  }

  it('int32 sums and adds keep their dtype', async () => {
    await use('wasm');
    const s = tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], 'int32'), 0);
    const a = tf.add(
      tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], 'int32'),
      tf.tensor1d([10, 20], 'int32'),
    );
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([16, 20]);
    expect(Array.from(a.dataSync())).toEqual([11, 22, 13, 24, 15, 26, 17, 28]);
    tf.dispose([s, a]);
  });

  it('casts: same dtype shares, conversions convert', async () => {
    await use('wasm');
    const a = tf.tensor([1.5, -2.5, 3]);
    const same = tf.cast(a, 'float32');
    const int = tf.cast(a, 'int32');
    a.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.5, 3]);
    expect(int.dtype).toBe('int32');
    expect(Array.from(int.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([same, int]);
  });

  it('clone shares the buffer and outlives its source', async () => {
    await use('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('avgPool gradient (AvgPoolGrad)', () => {
  const cases: {
    name: string;
    x: number[];
    filter: number;
    stride: number;
    pad: 'valid' | 'same' | number;
  }[] = [
    {
      name: '1x1 stride 2 (a CIFAR ResNet shortcut)',
      x: [3, 8, 8, 16],
      filter: 1,
      stride: 2,
      pad: 'valid',
    },
    { name: '2x2 stride 2', x: [2, 6, 7, 5], filter: 2, stride: 2, pad: 'valid' },
    {
      name: '3x3 stride 1 same (overlapping, padded)',
      x: [2, 7, 6, 3],
      filter: 3,
      stride: 1,
      pad: 'same',
    },
    { name: '3x3 stride 2 same, odd size', x: [2, 9, 9, 4], filter: 3, stride: 2, pad: 'same' },
    { name: '3x3 stride 2, numeric pad 1', x: [1, 8, 9, 6], filter: 3, stride: 2, pad: 1 },
    { name: 'global 8x8', x: [4, 8, 8, 12], filter: 8, stride: 1, pad: 'valid' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const xv = randomValues(size(c.x), 1);
      await compareBackends(c.name, () => {
        const x = tf.tensor4d(xv, c.x as Shape4);
        const f = (a: tf.Tensor) => {
          const y = tf.avgPool(a as tf.Tensor4D, c.filter, c.stride, c.pad);
          return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 3), y.shape)));
        };
        return tf.grad(f)(x);
      });
    });
  }
});

describe('Slice (heap to heap)', () => {
  const cases: {
    name: string;
    shape: number[];
    begin: number[];
    size: number[];
    dtype?: 'int32' | 'bool';
  }[] = [
    {
      name: 'one element of a 4-D tensor',
      shape: [3, 5, 6, 8],
      begin: [0, 0, 0, 0],
      size: [1, 1, 1, 1],
    },
    {
      name: 'channels of a 4-D tensor (short runs)',
      shape: [2, 4, 5, 32],
      begin: [0, 1, 0, 8],
      size: [2, 2, 5, 16],
    },
    { name: 'contiguous rows', shape: [10, 70], begin: [3, 0], size: [4, 70] },
    { name: 'long runs', shape: [4, 200], begin: [1, 30], size: [2, 150] },
    { name: 'rank 1', shape: [50], begin: [7], size: [20] },
    {
      name: 'rank 5, -1 size',
      shape: [2, 3, 4, 5, 6],
      begin: [1, 0, 1, 2, 3],
      size: [-1, 2, 3, -1, 3],
    },
    { name: 'int32', shape: [4, 6, 9], begin: [1, 2, 3], size: [2, 3, 4], dtype: 'int32' },
    { name: 'bool', shape: [5, 7], begin: [2, 1], size: [3, 5], dtype: 'bool' },
    { name: 'empty', shape: [4, 6], begin: [1, 2], size: [0, 3] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const values = randomValues(size(c.shape), 5);
      const run = () => {
        const base = tf.tensor(values, c.shape);
        const x =
          c.dtype === 'bool' ? tf.greater(base, 0) : c.dtype ? tf.cast(base, c.dtype) : base;
        return tf.cast(tf.slice(x, c.begin, c.size), 'float32');
      };
      const [expected] = await runOn('cpu', run);
      const [actual] = await runOn('wasm', run);
      expect(actual).toEqual(expected);
    });
  }
});

describe('a small conv net trains on wasm', () => {
  const shapes = {
    c1: [3, 3, 2, 4],
    b1: [4],
    d1: [3, 3, 4, 2],
    f1: [4 * 4 * 8, 5],
    fb: [5],
  } as const;
  const init = Object.fromEntries(
    Object.entries(shapes).map(([k, s], i) => [
      k,
      randomValues(size([...s]), 60 + i).map((v) => v * 0.5),
    ]),
  );
  const xv = randomValues(3 * 8 * 8 * 2, 70);
  const labels = [1, 4, 2];

  function model(p: Record<string, tf.Tensor>, x: tf.Tensor4D): tf.Scalar {
    let h = tf.relu(tf.add(tf.conv2d(x, p.c1 as tf.Tensor4D, 1, 'same'), p.b1)) as tf.Tensor4D; // [3, 8, 8, 4]
    h = tf.maxPool(h, 2, 2, 'valid'); // [3, 4, 4, 4]
    h = tf.relu(tf.depthwiseConv2d(h, p.d1 as tf.Tensor4D, 1, 'same')) as tf.Tensor4D; // [3, 4, 4, 8]
    const logits = tf.add(tf.matMul(tf.reshape(h, [3, 128]), p.f1 as tf.Tensor2D), p.fb);
    return tf.losses.softmaxCrossEntropy(
      tf.oneHot(tf.tensor1d(labels, 'int32'), 5),
      logits,
    ) as tf.Scalar;
  }

  it('gradients equal the cpu backend, and a step leaks no tensors', async () => {
    const grads = async (backend: Backend) =>
      runOn(backend, () => {
        const params = Object.fromEntries(
          Object.entries(init).map(([k, v]) => [
            k,
            tf.tensor(v, [...shapes[k as keyof typeof shapes]]),
          ]),
        );
        const names = Object.keys(params);
        const x = tf.tensor4d(xv, [3, 8, 8, 2]);
        const g = tf.grads((...ps: tf.Tensor[]) =>
          model(Object.fromEntries(names.map((n, i) => [n, ps[i]])), x),
        )(names.map((n) => params[n]));
        return [model(params, x), ...g];
      });
    const expected = await grads('cpu');
    const actual = await grads('wasm');
    for (let i = 0; i < expected.length; i++)
      expectClose(actual[i], expected[i], `net output ${i}`);

    await use('wasm');
    const vars = Object.fromEntries(
      Object.entries(init).map(([k, v]) => [
        k,
        tf.variable(tf.tensor(v, [...shapes[k as keyof typeof shapes]])),
      ]),
    );
    const x = tf.tensor4d(xv, [3, 8, 8, 2]);
    const optimizer = tf.train.sgd(0.1);
    const step = () => tf.tidy(() => optimizer.minimize(() => model(vars, x), true)!.dataSync()[0]);
    const first = step();
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    optimizer.dispose();
    tf.dispose([x, ...Object.values(vars)]);
  });
});
