/** The backends convkit can select, by the name a user asks for. */
export type BackendName = 'cuda' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = [
  'cuda',
  'tensorflow',
  'webgpu',
  'wasm',
  'cpu',
];

/** Auto-selection order, fastest first. Node's `webgpu` (Dawn) is only used on request. */
export const AUTO_ORDER = {
  node: ['cuda', 'tensorflow', 'wasm', 'cpu'] as BackendName[],
  browser: ['webgpu', 'wasm', 'cpu'] as BackendName[],
} as const;

export type Platform = keyof typeof AUTO_ORDER;

/** Where this code runs. Web workers count as the browser. */
export function currentPlatform(): Platform {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return proc?.versions?.node ? 'node' : 'browser';
}

/**
 * Kernels a backend must have to train a conv net (forward and backward of conv, depthwise
 * conv, pooling, matmul, the activations and the reductions the losses use).
 */
export const CONV_TRAINING_KERNELS = [
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNative',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'BatchMatMul',
  'UnsortedSegmentSum',
  'Relu',
  'Sum',
  'Max',
  'Exp',
  'Log',
] as const;
