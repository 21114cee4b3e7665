import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Info, type KernelFunc, withScope } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, type KernelRunner, simdKernels, simdPassRunner } from './simd-kernels';

// ReLU on wasm, forward and gradient: SIMD passes split between the kernel threads (runSplit).

/**
 * `Relu` on wasm, wrapped: float32 tensors of at least `tuning.parallelMinFloats` run as the
 * SIMD `relu` pass split in halves between the kernel threads, like the bias add before it
 * and the gradient passes after it; smaller ones and everything else go to tfjs's kernel
 * (one thread). Why: inside a LeNet-5 step tfjs's ReLU took 3 times as long as the same call
 * alone (0.12 against 0.04 ms on 64x28x28x6), most likely because the activation it reads was
 * just written half by each core and one core then pulled all of it (not measured further).
 * The same bits as tfjs cpu's Math.max(0, x): NaN for NaN, +0 for -0.
 */
export function makeRelu(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs.x as Info;
    const simd = x.dtype === 'float32' ? simdKernels(backend) : undefined;
    if (!simd) return original(args);
    const count = tf.util.sizeFromShape(x.shape);
    const runner = simdPassRunner(backend, simd, count);
    if (runner.threads === 1) return original(args);
    const y = backend.makeOutput(x.shape, 'float32') as Info;
    const whole = runSplit(
      runner,
      'relu',
      [x, y].map((t) => heapOffset(backend, t.dataId)),
      count,
    );
    const [xs, ys] = [x, y].map((t) => backend.typedArrayFromHeap(t as never) as Float32Array);
    for (let i = whole; i < count; i++) ys[i] = Math.max(0, xs[i]);
    return y;
  };
}

/**
 * The gradient of ReLU on wasm, dx = dy * step(x), as one pass (SIMD `reluGrad`, split
 * between the kernel threads on large tensors). tfjs computes it as a Step kernel and then a
 * Multiply: two passes, the second reading a tensor the first just wrote, and two kernel
 * calls through the engine, for every ReLU of every training step. step(x) is tfjs cpu's
 * (1 where x > 0, NaN where x is NaN, else 0), so dx has the bits of that pair.
 */
export const RELU_GRAD = 'ConvkitReluGrad';

function reluGrad(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm }): Info {
  const { inputs, backend } = args;
  const dy = inputs.dy as Info;
  const x = inputs.x as Info;
  return withScope(backend, (scope) => {
    const dx = scope.alloc(x.shape);
    const count = tf.util.sizeFromShape(x.shape);
    const simd = simdKernels(backend);
    const pointers = [dy, x, dx].map((t) => heapOffset(backend, t.dataId));
    const whole = simd
      ? runSplit(simdPassRunner(backend, simd, count), 'reluGrad', pointers, count)
      : 0;
    const [dys, xs, dxs] = [dy, x, dx].map((t) => scope.f32(t));
    for (let i = whole; i < count; i++) {
      const v = xs[i];
      dxs[i] = dys[i] * (v > 0 ? 1 : Number.isNaN(v) ? Number.NaN : 0);
    }
    return dx;
  });
}

export const reluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: reluGrad as unknown as tf.KernelFunc,
};

/**
 * tfjs's Relu gradient, `dy * step(x)`, with the product as one kernel where the active
 * backend has it (wasm); elsewhere tfjs's own two ops. Registered over tfjs's by
 * `registerGradients`.
 */
export const reluGradientConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const fused = x.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined;
    return {
      x: () =>
        fused
          ? (tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x }) as tf.Tensor)
          : tf.mul(dy as tf.Tensor, tf.step(tf.cast(x, 'float32'))),
    };
  },
};

/**
 * Runs the elementwise SIMD kernel `name` over floats [0, whole) of `count` (whole: the last
 * multiple of 4), split in 4-aligned halves (one part a thread); its arguments are each of
 * `pointers` advanced to the part, then the part's length. Returns `whole`: the JS tail's start.
 */
function runSplit(
  { run, threads }: { run: KernelRunner; threads: number },
  name: string,
  pointers: number[],
  count: number,
): number {
  const whole = count - (count % 4);
  run(
    splitRange(whole, threads, 4).map(([i0, i1]) => [
      { name, args: [...pointers.map((p) => p + 4 * i0), i1 - i0] },
    ]),
  );
  return whole;
}
