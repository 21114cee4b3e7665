import * as tf from '@tensorflow/tfjs-core';
import {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendName,
  CONV_TRAINING_KERNELS,
  currentPlatform,
  type Platform,
} from './backend-names';
import { BackendUnavailableError } from './backend-unavailable-error';
import { registerGradients } from './internal/gradients';
import { loadBackend } from './internal/loaders';
import { importOptional } from './node-io';

export interface SelectBackendOptions {
  /**
   * `'auto'` (default) tries the platform's order (Node: cuda, tensorflow, wasm, cpu; browser:
   * webgpu, wasm, cpu); a name selects that backend or throws; a list is tried in order.
   */
  backend?: 'auto' | BackendName | BackendName[];
  /** Browser only: URL prefix (ending in `/`) of tfjs-backend-wasm's `.wasm` files. */
  wasmPaths?: string;
  /**
   * Node, wasm backend: threads for convkit's SIMD kernels (the convolutions forward and
   * backward, batch norm), which run on worker threads over tfjs's threaded build's heap;
   * XNNPACK (the rest) then keeps one. Default: the environment variable
   * `CONVKIT_WASM_THREADS`, else the machine's cores; at most 8; 1 turns threads off. Fixed for
   * the process once the wasm backend has started. In a browser tfjs decides: threads need a
   * cross-origin isolated page.
   */
  threads?: number;
}

/** What the wasm backend runs with. */
export interface WasmFeatures {
  simd: boolean;
  /** Threads the backend computes on (tfjs's threaded build in Node: its heap is shared). */
  threads: number;
  /** Why there is only one thread, when there is only one. */
  singleThreadReason?: string;
  /**
   * Threads running convkit's own SIMD kernels (convolutions forward and backward, batch
   * norm): the same as `threads` in Node, where workers share the threaded build's heap; 1 in
   * a browser.
   */
  kernelThreads: number;
  /** Why convkit's kernels run on one thread while XNNPACK has more, when they do. */
  kernelThreadsReason?: string;
  /**
   * XNNPACK's threads: 1 once convkit's kernel workers run (they take the other cores; see
   * `oneXnnpackThread` in internal/loaders.ts), else `threads`.
   */
  xnnpackThreads: number;
  /**
   * Relaxed SIMD's fused multiply-add in convkit's GEMM (runtimes with relaxed SIMD: Chrome
   * 114+, Node 22+, or Node 20 started with --experimental-wasm-relaxed-simd).
   */
  fma: boolean;
}

/** What `selectBackend` chose, what the backend can do, and why others were skipped. */
export interface BackendReport {
  /** The convkit name of the chosen backend. */
  backend: BackendName;
  /** The name tfjs knows it by (`tf.getBackend()`); cuda and tensorflow are both 'tensorflow'. */
  tfjsName: string;
  platform: Platform;
  /** The device or adapter behind it, in words. */
  device: string;
  capabilities: {
    /** Every kernel of CONV_TRAINING_KERNELS is registered: conv nets train here. */
    canTrainConvNets: boolean;
    /** Training kernels the backend lacks (empty when it can train). */
    missingTrainingKernels: string[];
    /** Kernels convkit provided or replaced on this backend. */
    patchedKernels: string[];
  };
  /** wasm only: SIMD and the thread count in use, and why there is one thread when so. */
  wasm?: WasmFeatures;
  /** Every candidate tried before the chosen one, and why it was skipped. */
  skipped: { backend: BackendName; reason: string }[];
}

/**
 * Choose, load and activate a tfjs backend, register tfjs's gradients and chained ops, and
 * report what was chosen. Call once at startup, before building models.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendReport> {
  const platform = currentPlatform();
  const requested = options.backend ?? 'auto';
  const candidates = requested === 'auto' ? AUTO_ORDER[platform] : [requested].flat();
  for (const name of candidates) {
    if (!BACKEND_NAMES.includes(name)) {
      throw new Error(
        `selectBackend: unknown backend '${name}'; expected 'auto' or one of ${BACKEND_NAMES.join(', ')}`,
      );
    }
  }
  const threads = platform === 'node' ? await wasmThreads(options.threads) : undefined;
  await registerGradients();

  const skipped: BackendReport['skipped'] = [];
  for (const backend of candidates) {
    try {
      const loaded = await loadBackend(backend, {
        platform,
        wasmPaths: options.wasmPaths,
        wasmThreads: threads,
      });
      const missing = CONV_TRAINING_KERNELS.filter((k) => !tf.getKernel(k, loaded.tfjsName));
      return {
        backend,
        tfjsName: loaded.tfjsName,
        platform,
        device: loaded.device,
        capabilities: {
          canTrainConvNets: missing.length === 0,
          missingTrainingKernels: missing,
          patchedKernels: loaded.patchedKernels,
        },
        skipped,
        ...(loaded.wasm ? { wasm: loaded.wasm } : {}),
      };
    } catch (error) {
      // An explicit single choice fails loudly; auto mode and lists record and move on.
      if (candidates.length === 1) throw error;
      const reason = error instanceof BackendUnavailableError ? error.message : String(error);
      skipped.push({ backend, reason });
    }
  }
  throw new Error(
    `selectBackend: no backend could be loaded on ${platform}:\n${skipped
      .map((s) => `  ${s.backend}: ${s.reason}`)
      .join('\n')}`,
  );
}

/** Threads for the wasm backend in Node: the option, else CONVKIT_WASM_THREADS, else cores. */
async function wasmThreads(option: number | undefined): Promise<number> {
  const check = (value: number, what: string) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(
        `selectBackend: ${what} must be a whole number of at least 1, received ${value}`,
      );
    }
    return value;
  };
  if (option !== undefined) return check(option, 'threads');
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.CONVKIT_WASM_THREADS;
  if (env !== undefined && env !== '') return check(Number(env), `CONVKIT_WASM_THREADS ('${env}')`);
  const os = await importOptional<typeof import('node:os')>('node:os');
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** The report as a few readable lines, for logs and CLIs. */
export function formatBackendReport(report: BackendReport): string {
  const caps = report.capabilities;
  const lines = [
    `backend: ${report.backend} (tfjs '${report.tfjsName}', ${report.platform})`,
    `device: ${report.device}`,
    `trains conv nets: ${caps.canTrainConvNets ? 'yes' : `no (missing ${caps.missingTrainingKernels.join(', ')})`}`,
  ];
  if (report.wasm) {
    const { simd, fma, threads, singleThreadReason, kernelThreads, kernelThreadsReason } =
      report.wasm;
    const plural = (count: number) => `${count} thread${count === 1 ? '' : 's'}`;
    const features = [simd ? 'SIMD' : 'no SIMD', ...(fma ? ['relaxed-SIMD FMA'] : [])];
    lines.push(
      `wasm: ${features.join(' + ')}, ${plural(threads)}${singleThreadReason ? ` (${singleThreadReason})` : ''}`,
    );
    if (kernelThreads !== threads) {
      lines.push(
        `convkit's kernels: ${plural(kernelThreads)}${kernelThreadsReason ? ` (${kernelThreadsReason})` : ''}`,
      );
    }
    if (report.wasm.xnnpackThreads !== threads) {
      lines.push(
        `XNNPACK: ${plural(report.wasm.xnnpackThreads)} (convkit's kernels have the other cores)`,
      );
    }
  }
  if (caps.patchedKernels.length > 0) {
    lines.push(`kernels provided by convkit: ${caps.patchedKernels.join(', ')}`);
  }
  for (const s of report.skipped) lines.push(`skipped ${s.backend}: ${s.reason}`);
  return lines.join('\n');
}
