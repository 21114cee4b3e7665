import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc } from './kernel-scope';

/**
 * `Identity` on wasm, replacing tfjs-backend-wasm's, which copies the buffer. The engine runs
 * Identity for `tf.clone` and for every tensor a gradient saves (saveTensorsForBackwardMode),
 * so a LeNet-5 step copied each conv activation three times for nothing. Tensor data is
 * immutable in tfjs, so, like the cpu backend, the output shares the input's buffer and holds
 * a reference to it (wasm `Reshape` shares buffers the same way). The operator caches keyed
 * by tensor id (XNNPACK conv / matmul weights) stay valid: a shared buffer has one id and one
 * content.
 */
export function identity(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
}): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};

/**
 * `Cast` on wasm, wrapped: a cast to the dtype the tensor already has (every ReLU gradient
 * casts `step(x)`, float32, to float32) shares the buffer like `identity` instead of copying
 * it; real conversions go to tfjs's kernel.
 */
export function makeCast(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype;
    if (dtype === x.dtype) return identity(args);
    return original(args);
  };
}
