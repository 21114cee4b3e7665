import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Info, KernelFunc } from './kernel-scope';
import { splitRange } from './kernel-workers';
import { heapOffset, simdKernels, simdPassRunner } from './simd-kernels';

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
    const count = x.shape.reduce((a, b) => a * b, 1);
    const whole = count - (count % 4);
    if (!simd) return original(args);
    const { run, threads } = simdPassRunner(backend, simd, whole);
    if (threads === 1) return original(args);
    const y = backend.makeOutput(x.shape, 'float32') as Info;
    const [src, dst] = [heapOffset(backend, x.dataId), heapOffset(backend, y.dataId)];
    run(
      splitRange(whole, threads, 4).map(([i0, i1]) => [
        { name: 'relu', args: [src + 4 * i0, dst + 4 * i0, i1 - i0] },
      ]),
    );
    const [xs, ys] = [x, y].map((t) => backend.typedArrayFromHeap(t as never) as Float32Array);
    for (let i = whole; i < count; i++) ys[i] = Math.max(0, xs[i]);
    return y;
  };
}
