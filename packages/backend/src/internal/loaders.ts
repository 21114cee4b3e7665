import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, Platform } from '../backend-names';
import { BackendUnavailableError } from '../backend-unavailable-error';
import { importOptional, isMissingPackage } from '../node-io';
import type { WasmFeatures } from '../select-backend';
import { registerWasmTrainingKernels } from '../wasm-training-kernels';
import { simdKernelFeatures, startSimdKernelWorkers } from './wasm/simd-kernels';
import {
  type NodeWasmThreadsModule,
  planNodeWasmThreads,
  settleNodeWasmThreads,
} from './wasm-node-threads';

/** What a loader found about the device behind a backend it brought up. */
export interface LoadedBackend {
  /** The name tfjs registered the backend under (`tf.getBackend()`). */
  tfjsName: string;
  device: string;
  /** Kernels convkit registered on the backend (the WASM training kernels). */
  patchedKernels: string[];
  /** wasm only: SIMD and threads in use, and why threads are off when they are. */
  wasm?: WasmFeatures;
}

export interface LoaderOptions {
  platform: Platform;
  /** Where the browser fetches tfjs-backend-wasm's `.wasm` files (a URL prefix ending in `/`). */
  wasmPaths?: string;
  /** Node: threads for the wasm backend (the browser decides by cross-origin isolation). */
  wasmThreads?: number;
}

/** The package that provides a backend, and how a user installs it. */
export const BACKEND_PACKAGES: Record<BackendName, { node: string; browser?: string }> = {
  cuda: { node: '@tensorflow/tfjs-node-gpu' },
  tensorflow: { node: '@tensorflow/tfjs-node' },
  webgpu: { node: 'webgpu', browser: '@tensorflow/tfjs-backend-webgpu' },
  wasm: { node: '@tensorflow/tfjs-backend-wasm', browser: '@tensorflow/tfjs-backend-wasm' },
  cpu: { node: '@tensorflow/tfjs-backend-cpu', browser: '@tensorflow/tfjs-backend-cpu' },
};

export function missingPackageError(backend: BackendName, packageName: string, why: string) {
  return new BackendUnavailableError(
    backend,
    `@convkit/backend: backend '${backend}' needs the optional package ${packageName}, which is ` +
      `not installed. Install it with: npm install ${packageName}@^4.22.0${why ? ` (${why})` : ''}`,
    packageName,
  );
}

/** Import `packageName`, turning "module not found" into a clear BackendUnavailableError. */
async function load<T>(
  backend: BackendName,
  packageName: string,
  importer: () => Promise<T>,
  why = '',
): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    if (isMissingPackage(error, packageName)) throw missingPackageError(backend, packageName, why);
    throw new BackendUnavailableError(
      backend,
      `@convkit/backend: loading ${packageName} for backend '${backend}' failed: ${(error as Error).message}`,
    );
  }
}

/** Activate a registered tfjs backend, failing with `backend` named if tfjs refuses it. */
async function activate(backend: BackendName, tfjsName: string): Promise<void> {
  let ok = false;
  let reason = '';
  try {
    ok = await tf.setBackend(tfjsName);
  } catch (error) {
    reason = (error as Error).message;
  }
  if (!ok) {
    throw new BackendUnavailableError(
      backend,
      `@convkit/backend: tfjs could not initialize backend '${tfjsName}'${reason ? `: ${reason}` : ''}`,
    );
  }
  await tf.ready();
}

async function loadCpu(): Promise<LoadedBackend> {
  await load('cpu', '@tensorflow/tfjs-backend-cpu', () => import('@tensorflow/tfjs-backend-cpu'));
  await activate('cpu', 'cpu');
  // The cpu backend prints advice to install tfjs-node on its first write in Node; the report's
  // skipped list already says that, with the reason.
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
  return { tfjsName: 'cpu', device: 'JavaScript on the main thread', patchedKernels: [] };
}

async function loadWasm(options: LoaderOptions): Promise<LoadedBackend> {
  const wasm = await load(
    'wasm',
    '@tensorflow/tfjs-backend-wasm',
    () => import('@tensorflow/tfjs-backend-wasm'),
  );
  const paths =
    options.wasmPaths ?? (options.platform === 'node' ? await nodeWasmDir() : undefined);
  if (paths) wasm.setWasmPaths(paths);
  const threadsReason = await startWasm(wasm, options);
  const patchedKernels = registerWasmTrainingKernels();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasm.getThreadsCount();
  const backend = tf.backend() as BackendWasm;
  const features: WasmFeatures = {
    simd: simd === true,
    threads,
    kernelThreads: 1,
    xnnpackThreads: threads,
    fma: simdKernelFeatures(backend).fma,
  };
  if (threads === 1) {
    features.singleThreadReason = threadsReason ?? 'tfjs started one thread';
  } else if (options.platform === 'node') {
    const workerThreads =
      await importOptional<typeof import('node:worker_threads')>('node:worker_threads');
    const reason = await startSimdKernelWorkers(backend, workerThreads, threads);
    if (reason) {
      features.kernelThreadsReason = reason;
    } else {
      features.kernelThreads = threads;
      features.xnnpackThreads = oneXnnpackThread(backend);
    }
  }
  return {
    tfjsName: 'wasm',
    device: `WebAssembly (${simd ? 'SIMD' : 'no SIMD'}${features.fma ? ' + FMA' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
    patchedKernels,
    wasm: features,
  };
}

/**
 * Give XNNPACK's pthreadpool one thread (the caller's), leaving the other cores to convkit's
 * kernel workers, which run the convolutions forward and backward. XNNPACK's pool threads spin
 * between operations (measured here: 1.9 cores busy while the main thread ran element-wise ops
 * half a millisecond apart), so with both pools awake a convkit kernel's second share waited
 * for a core a spinning XNNPACK thread held: ResNet-18's 56x56 convolutions at batch 1 ran
 * 1.6x slower inside the model than alone. What stays on XNNPACK (element-wise operations,
 * pooling, matrix products, depthwise and odd-channel convolutions) is light or memory-bound.
 */
function oneXnnpackThread(backend: BackendWasm): number {
  const tfjs = (
    backend as unknown as {
      wasm: { tfjs: { initWithThreadsCount(n: number): void; getThreadsCount(): number } };
    }
  ).wasm.tfjs;
  tfjs.initWithThreadsCount(1);
  return tfjs.getThreadsCount();
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

/**
 * Start the wasm backend: in Node with the requested threads (tfjs's threaded build, see
 * wasm-node-threads.ts), on one thread if that fails. Returns why it runs on one thread, if
 * it is known before it starts.
 */
async function startWasm(wasm: WasmModule, options: LoaderOptions): Promise<string | undefined> {
  if (options.platform !== 'node') {
    await activate('wasm', 'wasm');
    return browserThreadsReason();
  }
  const setFlag = (on: boolean) => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', on);
  const plan = await planNodeWasmThreads(wasm, setFlag, options.wasmThreads ?? 1);
  if (!plan.on) {
    setFlag(false);
    await activate('wasm', 'wasm');
    return plan.reason;
  }
  try {
    await activate('wasm', 'wasm');
  } catch (error) {
    plan.restore();
    setFlag(false);
    wasm.setThreadsCount(1);
    await activate('wasm', 'wasm');
    return `the threaded build did not start: ${(plan.failure() ?? (error as Error)).message}`;
  }
  plan.restore();
  settleNodeWasmThreads((tf.backend() as unknown as { wasm: NodeWasmThreadsModule }).wasm);
  return undefined;
}

/** Why tfjs runs the wasm backend on one thread in a browser. */
function browserThreadsReason(): string {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated
    ? 'the threaded build did not start'
    : 'the page is not cross-origin isolated (it needs the COOP and COEP headers), so there is no SharedArrayBuffer';
}

/** In Node, tfjs-backend-wasm must be told the absolute directory of its `.wasm` files. */
async function nodeWasmDir(): Promise<string> {
  const { createRequire } = await importOptional<typeof import('node:module')>('node:module');
  const { dirname, join } = await importOptional<typeof import('node:path')>('node:path');
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  return `${join(dirname(main), '/')}`;
}

async function loadWebGpu(options: LoaderOptions): Promise<LoadedBackend> {
  const nav = (globalThis as { navigator?: { gpu?: any } }).navigator;
  if (options.platform === 'node' && !nav?.gpu) {
    // Dawn from the npm `webgpu` package provides navigator.gpu in Node; it must exist
    // before tfjs-backend-webgpu is imported.
    const dawn = await load('webgpu', 'webgpu', () => importOptional('webgpu'), 'Dawn for Node');
    Object.assign(globalThis, dawn.globals);
    (globalThis as any).navigator = { ...(nav ?? {}), gpu: dawn.create([]) };
  }
  const gpu = (globalThis as { navigator?: { gpu?: any } }).navigator?.gpu;
  if (!gpu) {
    throw new BackendUnavailableError('webgpu', '@convkit/backend: navigator.gpu is not available');
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new BackendUnavailableError('webgpu', noAdapterMessage(options.platform));
  }
  await load(
    'webgpu',
    '@tensorflow/tfjs-backend-webgpu',
    () => import('@tensorflow/tfjs-backend-webgpu'),
  );
  await activate('webgpu', 'webgpu');
  return { tfjsName: 'webgpu', device: await describeAdapter(adapter), patchedKernels: [] };
}

/** What to install or set when no WebGPU adapter appears. */
function noAdapterMessage(platform: LoaderOptions['platform']): string {
  const base = '@convkit/backend: navigator.gpu.requestAdapter() returned no adapter';
  if (platform !== 'node') {
    return `${base}; the browser has WebGPU disabled or no usable GPU (headless Chromium needs --enable-unsafe-webgpu)`;
  }
  const icd = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.VK_ICD_FILENAMES;
  return `${base}. In Node, WebGPU comes from Dawn (the \`webgpu\` npm package) over a Vulkan driver: on a machine without a GPU driver install Chromium's SwiftShader (apt-get install chromium) and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json before starting Node (Mesa's lavapipe is rejected by Dawn); VK_ICD_FILENAMES is ${icd ? `'${icd}'` : 'not set'}`;
}

async function describeAdapter(adapter: any): Promise<string> {
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (p: unknown) => typeof p === 'string' && p.length > 0,
  );
  return `WebGPU adapter: ${parts.join(' / ') || 'unnamed'}`;
}

async function loadTensorflow(backend: 'cuda' | 'tensorflow'): Promise<LoadedBackend> {
  const packageName = BACKEND_PACKAGES[backend].node;
  await load(
    backend,
    packageName,
    () => importOptional(packageName),
    'it downloads libtensorflow at install time',
  );
  await activate(backend, 'tensorflow');
  return {
    tfjsName: 'tensorflow',
    device:
      backend === 'cuda'
        ? 'libtensorflow with CUDA (tfjs-node-gpu; the GPU is chosen by libtensorflow)'
        : 'libtensorflow on the CPU (tfjs-node)',
    patchedKernels: [],
  };
}

/** Bring up `backend` on this platform and make it tfjs's active backend. */
export async function loadBackend(
  backend: BackendName,
  options: LoaderOptions,
): Promise<LoadedBackend> {
  if (options.platform === 'browser' && (backend === 'cuda' || backend === 'tensorflow')) {
    throw new BackendUnavailableError(
      backend,
      `@convkit/backend: backend '${backend}' runs only in Node`,
    );
  }
  switch (backend) {
    case 'cpu':
      return loadCpu();
    case 'wasm':
      return loadWasm(options);
    case 'webgpu':
      return loadWebGpu(options);
    case 'cuda':
    case 'tensorflow':
      return loadTensorflow(backend);
  }
}
