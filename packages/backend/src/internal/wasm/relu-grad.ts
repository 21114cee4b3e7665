import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Info, withScope } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, simdKernels, simdPassRunner } from './simd-kernels';

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
    const whole = simd ? count - (count % 4) : 0;
    if (simd && whole > 0) {
      const ptr = (t: Info) => heapOffset(backend, t.dataId);
      const { run, threads } = simdPassRunner(backend, simd, whole);
      run(
        splitRange(whole, threads, 4).map(([i0, i1]) => [
          {
            name: 'reluGrad',
            args: [ptr(dy) + 4 * i0, ptr(x) + 4 * i0, ptr(dx) + 4 * i0, i1 - i0],
          },
        ]),
      );
    }
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
