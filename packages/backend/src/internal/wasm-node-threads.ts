/**
 * Threads for tfjs-backend-wasm in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build (XNNPACK over a pthreadpool of Emscripten
 * pthreads), and its Emscripten glue supports Node's worker_threads, but tfjs turns threads off
 * in Node (tfjs issue #3830) for three reasons this file works around, without touching tfjs's
 * files:
 *
 * 1. tfjs's `init` hands Emscripten two Blobs: the pthread worker script (as an object URL)
 *    and the main script the worker imports. Node's `Worker` loads neither a `blob:` URL nor a
 *    Blob. While the backend initializes, `Blob` and `URL.createObjectURL` are wrapped so the
 *    two scripts are written to files (content-addressed, under the OS temp directory) and the
 *    worker is pointed at the main script's file.
 * 2. The main script is the threaded factory's source text; in the Node bundle it refers to
 *    the bundle's `require$$N` variables (fs, path, perf_hooks, os) and `commonjsGlobal`, which
 *    do not exist in the worker. They are declared in front of it.
 * 3. The pool size is capped at `os.cpus().length / 2` (tfjs assumes two hyperthreads a core),
 *    so a 2-vCPU machine gets one thread. `os.cpus` reports twice the requested threads while
 *    the module starts.
 *
 * Both scripts are checked (they must parse, and the worker must hold the branch replaced);
 * when that fails (another tfjs version), this start fails and the caller starts the backend
 * again on one thread, reporting why.
 */
import { importOptional } from '../node-io';

/** Emscripten's pthread pool in tfjs's build: the most threads XNNPACK can get. */
export const MAX_WASM_THREADS = 8;

/** The worker's "import the main script" branch, as it appears in tfjs 4.22's bundle. */
const WORKER_IMPORT = 'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}';
const MAIN_SCRIPT_START = 'var WasmBackendModuleThreadedSimd';

export type ThreadsPlan =
  | {
      on: true;
      threads: number;
      restore(): void;
      /** The error that failed the start in convkit's patches, if one did (tfjs hides it). */
      failure(): Error | undefined;
    }
  | { on: false; reason: string };

/** The Node built-ins the patches use, loaded before anything is patched. */
interface NodeModules {
  fs: typeof import('node:fs');
  path: typeof import('node:path');
  os: typeof import('node:os');
  crypto: typeof import('node:crypto');
  vm: typeof import('node:vm');
}

async function nodeModules(): Promise<NodeModules> {
  const load = async <T>(id: string) => ((await importOptional(id)) as { default: T }).default;
  const [fs, path, os, crypto, vm] = await Promise.all([
    load<NodeModules['fs']>('node:fs'),
    load<NodeModules['path']>('node:path'),
    load<NodeModules['os']>('node:os'),
    load<NodeModules['crypto']>('node:crypto'),
    load<NodeModules['vm']>('node:vm'),
  ]);
  return { fs, path, os, crypto, vm };
}

/**
 * Prepare tfjs-backend-wasm (`wasm`) to start with `threads` threads in Node: call before the
 * backend initializes, and `restore()` right after, whether it started or not.
 */
export async function planNodeWasmThreads(
  wasm: { setThreadsCount(n: number): void },
  setMultithreadFlag: (on: boolean) => void,
  threads: number,
): Promise<ThreadsPlan> {
  if (threads <= 1) {
    return {
      on: false,
      reason: 'one thread requested (the threads option, CONVKIT_WASM_THREADS or a 1-core machine)',
    };
  }
  if (typeof SharedArrayBuffer === 'undefined') {
    return { on: false, reason: 'SharedArrayBuffer is not available' };
  }
  const node = await nodeModules();
  const count = Math.min(threads, MAX_WASM_THREADS);
  const intercepted = interceptScripts(node);
  // The CommonJS `os` object itself, which tfjs's `require('os')` also gets.
  const cpus = node.os.cpus;
  node.os.cpus = () => Array.from({ length: 2 * count }, () => cpus()[0]);
  setMultithreadFlag(true);
  wasm.setThreadsCount(count);
  return {
    on: true,
    threads: count,
    restore() {
      intercepted.restore();
      node.os.cpus = cpus;
    },
    failure: () => intercepted.failure,
  };
}

/**
 * Declarations of the Node bundle's module variables the factory's source refers to, found in
 * the source itself (so a bundler's renaming does not matter): `var fs = require$$0`, `var
 * nodePath = require$$1`, `require$$3.performance`, `require$$4.cpus()`, and `commonjsGlobal`.
 * Throws (failing this start) when it refers to one it cannot place.
 */
function prelude(source: string): string {
  const modules = new Map<string, string>();
  const place = (pattern: RegExp, id: string) => {
    for (const match of source.matchAll(pattern)) modules.set(match[1], id);
  };
  place(/var fs = (require\$\$\d+);/g, 'fs');
  place(/var nodePath = (require\$\$\d+);/g, 'path');
  place(/(require\$\$\d+)\.performance/g, 'perf_hooks');
  place(/(require\$\$\d+)\.cpus\(\)/g, 'os');
  const unplaced = [...new Set(source.match(/require\$\$\d+/g) ?? [])].filter(
    (v) => !modules.has(v),
  );
  if (unplaced.length > 0) {
    throw new Error(
      `the threaded factory refers to ${unplaced.join(', ')}, which convkit cannot place`,
    );
  }
  const declarations = [...modules].map(
    ([name, id]) => `var ${name}=require(${JSON.stringify(id)});`,
  );
  // esbuild's ESM output calls `require` through its own `__require`.
  const requireName = /(\w+)\("worker_threads"\)/.exec(source)?.[1];
  if (requireName === '__require') declarations.push('var __require=require;');
  else if (requireName !== 'require') {
    throw new Error(
      `the threaded factory loads worker_threads through ${requireName ?? 'nothing convkit recognizes'}, not require (a bundler rewrote it)`,
    );
  }
  return `${declarations.join('')}var commonjsGlobal=globalThis;\n`;
}

/**
 * Wrap `Blob` and `URL.createObjectURL` so the two scripts tfjs builds become files a Node
 * worker can load. `restore` puts the originals back; `failure` is the first error raised.
 */
function interceptScripts({ fs, path, os, crypto, vm }: NodeModules): {
  restore(): void;
  readonly failure: Error | undefined;
} {
  let failure: Error | undefined;
  /** Run `fn`, keeping its error: tfjs reports a failed start without the cause. */
  const noting = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      failure ??= error as Error;
      throw error;
    }
  };
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const texts = new WeakMap<Blob, string>();
  let mainScript: string | undefined;

  const writeScript = (kind: string, text: string): string => {
    // A script that does not parse would crash the process from inside a worker: check here,
    // where an error only fails this start (and the backend starts on one thread instead).
    new vm.Script(text, { filename: `convkit-wasm-${kind}.cjs` });
    const hash = crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
    const file = path.join(os.tmpdir(), `convkit-wasm-${kind}-${hash}.cjs`);
    if (!fs.existsSync(file)) {
      // Atomic: concurrent processes may write the same file at once.
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      fs.writeFileSync(temp, text);
      fs.renameSync(temp, file);
    }
    return file;
  };

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      const text = parts?.every((p) => typeof p === 'string') ? parts.join('') : undefined;
      if (text === undefined) return;
      texts.set(this, text);
      if (text.startsWith(MAIN_SCRIPT_START)) {
        mainScript = noting(() => writeScript('main', prelude(text) + text));
      }
    }
  }
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = (blob: Blob): string => noting(() => workerScript(blob));
  const workerScript = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined || !text.includes('WasmBackendModuleThreadedSimd(Module)')) {
      return originalCreateObjectURL(blob);
    }
    if (!text.includes(WORKER_IMPORT) || mainScript === undefined) {
      throw new Error(
        'the pthread worker script of tfjs-backend-wasm is not laid out as in 4.22, which convkit adapts',
      );
    }
    const importMain = `if(true){importScripts(${JSON.stringify(mainScript)})}`;
    return writeScript('worker', text.replace(WORKER_IMPORT, importMain));
  };
  return {
    restore() {
      globalThis.Blob = OriginalBlob;
      URL.createObjectURL = originalCreateObjectURL;
    },
    get failure() {
      return failure;
    },
  };
}

/** The Emscripten pthread bookkeeping tfjs's module exposes. */
export interface NodeWasmThreadsModule {
  PThread?: {
    unusedWorkers: { terminate(): unknown }[];
    runningWorkers: { unref(): unknown }[];
  };
}

/**
 * After the backend started: XNNPACK's pool threads are running pthreads, which Emscripten
 * keeps referenced, so Node would never exit; unreference them. The spare workers of
 * Emscripten's pre-started pool (8) are never used by tfjs after start-up: end them.
 */
export function settleNodeWasmThreads(module: NodeWasmThreadsModule): void {
  const pool = module.PThread;
  if (!pool) return;
  for (const worker of pool.runningWorkers) worker.unref();
  for (const worker of pool.unusedWorkers.splice(0)) worker.terminate();
}
