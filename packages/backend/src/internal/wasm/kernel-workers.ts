/**
 * convkit's own SIMD kernels (simd-kernels.ts) on more than one thread, in Node.
 *
 * tfjs's threaded build gives XNNPACK a pthread pool, but convkit's kernels (the filter
 * gradient's im2col and GEMM) run on the calling thread, and XNNPACK's pool cannot be called
 * from JS. The threaded build's heap is a shared `WebAssembly.Memory`, so a `worker_threads`
 * worker can instantiate the same kernel module over that same memory and work on the same
 * tensors by their heap offsets, with nothing copied.
 *
 * A call hands each worker a list of kernel calls (function index and integer arguments)
 * through a small shared control block, wakes them with `Atomics.notify`, runs its own share
 * on the calling thread, and blocks in `Atomics.wait` until every worker has finished: the
 * caller sees an ordinary synchronous kernel. Callers split work so that each output element
 * is computed by exactly one call, in the same order as on one thread, so results are
 * bitwise the same on any number of threads.
 *
 * Workers are unreferenced (they never keep Node alive). After a call, each worker (and the
 * caller, waiting for them) polls the control block for `spinMicros` before it sleeps in
 * `Atomics.wait`, as OpenMP's workers spin before they block: a training step's kernels follow
 * one another within a millisecond, and waking a sleeping thread costs tens of microseconds
 * (on this 2-vCPU VM a LeNet-5 step on 2 threads took 10% less time with 2 ms of polling than
 * with none, in steps alternated within one process). So a core shows busy for up to that long
 * after the last kernel; idle workers cost no CPU.
 */

/** One kernel call: the export's name and its integer arguments. */
export interface KernelCall {
  name: string;
  args: number[];
}

export interface KernelWorkers {
  /** Threads taking part in a call, the calling thread included. */
  readonly threads: number;
  /**
   * Run `shares[0]` on this thread and `shares[i]` on worker i - 1, concurrently; returns when
   * all are done. Throws if a kernel failed on a worker.
   */
  run(shares: KernelCall[][]): void;
  /** Stop the workers (idempotent). */
  close(): void;
}

// Control block layout (Int32 words).
const GENERATION = 0; // bumped by the caller for each call
const PENDING = 1; // workers still working on the current call
const STOP = 2; // 1: workers exit
const FAILED = 3; // 1: a kernel threw on a worker
const SPIN = 4; // microseconds a worker polls for the next call before it sleeps (set per call)
const HEADER = 8;
/**
 * Words per worker: [number of calls, then per call: function index, argument count, args].
 * Room for about 5,000 calls (512 KB; untouched pages of the buffer take no memory): a share
 * larger than its slot runs in rounds, each a wake and a wait for every thread, and Winograd's
 * filter gradient on a batch (18 calls per chunk of tiles, thousands a thread) ran slower on 2
 * threads than on 1 in rounds of 1,024 words.
 */
const SLOT = 1 << 17;

/**
 * The most arguments a kernel takes (`convDirect` takes 21). A worker passes this many words
 * to every call, as separate arguments: WebAssembly ignores those past the function's
 * parameters, and spreading an array made from the slot cost 0.57 us a call against 0.02
 * (measured in Node 20), which a Winograd layer's thousands of calls felt.
 */
const MAX_ARGS = 24;

/**
 * The worker's program (CommonJS, run with `eval`): instantiate the kernels over the shared
 * memory, then serve calls until told to stop.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, index, names } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports_[n]);
parentPort.postMessage('ready');
const ctrl = new Int32Array(control);
const base = ${HEADER} + index * ${SLOT};
let seen = Atomics.load(ctrl, ${GENERATION});
for (;;) {
  const until = performance.now() + ctrl[${SPIN}] / 1000;
  for (let polls = 1; Atomics.load(ctrl, ${GENERATION}) === seen; polls++) {
    if (polls % 256 === 0 && performance.now() > until) Atomics.wait(ctrl, ${GENERATION}, seen);
  }
  seen = Atomics.load(ctrl, ${GENERATION});
  if (Atomics.load(ctrl, ${STOP}) === 1) break;
  try {
    let at = base + 1;
    for (let c = ctrl[base]; c > 0; c--) {
      const fn = fns[ctrl[at]];
      const a = at + 2;
      fn(${Array.from({ length: MAX_ARGS }, (_, i) => `ctrl[a + ${i}]`).join(', ')});
      at += 2 + ctrl[at + 1];
    }
  } catch {
    Atomics.store(ctrl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctrl, ${PENDING}, 1) === 1) Atomics.notify(ctrl, ${PENDING});
}
`;

type WorkerThreads = typeof import('node:worker_threads');

/**
 * Start `threads - 1` workers running `module`'s exports over `memory` (which must be shared);
 * `local` is the calling thread's instance of the same module. Resolves once every worker has
 * its instance (a call blocks this thread, so a worker that died later could never be heard
 * of: the start is where failures surface); rejects with the first worker's error.
 */
export async function startKernelWorkers(
  workerThreads: WorkerThreads,
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  local: Record<string, unknown>,
  threads: number,
  /** How long (microseconds) threads poll before they sleep, read at every call. */
  spinMicros: () => number,
): Promise<KernelWorkers> {
  const names = WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name);
  const control = new SharedArrayBuffer((HEADER + (threads - 1) * SLOT) * 4);
  const ctrl = new Int32Array(control);
  const workers = Array.from({ length: threads - 1 }, (_, index) => {
    return new workerThreads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, memory, control, index, names },
    });
  });
  try {
    await Promise.all(workers.map(ready));
  } catch (error) {
    for (const worker of workers) void worker.terminate();
    throw error;
  }
  for (const worker of workers) worker.unref();
  let closed = false;
  const runLocal = (calls: KernelCall[]) => {
    for (const call of calls) (local[call.name] as (...args: number[]) => void)(...call.args);
  };
  return {
    threads,
    run(shares) {
      if (closed) throw new Error('@convkit/backend: the kernel workers were closed');
      if (shares.length > threads) {
        throw new Error(`@convkit/backend: ${shares.length} shares for ${threads} threads`);
      }
      // One share: nothing to wait for, and no worker to wake (tens of microseconds each).
      if (shares.length <= 1) {
        runLocal(shares[0] ?? []);
        return;
      }
      for (const round of rounds(shares, threads)) runRound(round);
    },
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(ctrl, STOP, 1);
      Atomics.add(ctrl, GENERATION, 1);
      Atomics.notify(ctrl, GENERATION);
      for (const worker of workers) void worker.terminate();
    },
  };

  /** One wake of the workers: each runs its share (which fits its slot) while this thread runs shares[0]. */
  function runRound(shares: KernelCall[][]): void {
    for (let w = 0; w < threads - 1; w++) writeSlot(ctrl, w, shares[w + 1] ?? [], names);
    const spin = spinMicros();
    Atomics.store(ctrl, SPIN, spin);
    Atomics.store(ctrl, FAILED, 0);
    Atomics.store(ctrl, PENDING, threads - 1);
    Atomics.add(ctrl, GENERATION, 1);
    Atomics.notify(ctrl, GENERATION);
    try {
      runLocal(shares[0] ?? []);
    } finally {
      const until = performance.now() + spin / 1000;
      let polls = 0;
      for (let left = Atomics.load(ctrl, PENDING); left !== 0; left = Atomics.load(ctrl, PENDING)) {
        if (++polls % 256 === 0 && performance.now() > until) Atomics.wait(ctrl, PENDING, left);
      }
    }
    if (Atomics.load(ctrl, FAILED) === 1) {
      throw new Error('@convkit/backend: a SIMD kernel failed on a worker thread');
    }
  }
}

/**
 * `shares` as rounds whose worker shares each fit a slot (most calls: one round). A worker's
 * calls keep their order across rounds, and this thread's share is cut into as many even
 * parts, so it keeps working while the workers do. Batch norm over a large tensor has
 * hundreds of fixed-size chunks (MobileNetV2 at batch 8: 147 a thread).
 */
function rounds(shares: KernelCall[][], threads: number): KernelCall[][][] {
  const pieces = shares.slice(1, threads).map((calls) => {
    const out: KernelCall[][] = [[]];
    let words = 1; // a slot holds the number of calls, then per call index, count, args
    for (const call of calls) {
      const size = 2 + call.args.length;
      if (words + size > SLOT && out[out.length - 1].length > 0) {
        out.push([]);
        words = 1;
      }
      out[out.length - 1].push(call);
      words += size;
    }
    return out;
  });
  const count = Math.max(1, ...pieces.map((p) => p.length));
  if (count === 1) return [shares];
  const local = shares[0] ?? [];
  return Array.from({ length: count }, (_, r) => {
    const [l0, l1] = [
      Math.round((local.length * r) / count),
      Math.round((local.length * (r + 1)) / count),
    ];
    return [local.slice(l0, l1), ...pieces.map((p) => p[r] ?? [])];
  });
}

function ready(worker: import('node:worker_threads').Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`a kernel worker exited with code ${code}`)));
  });
}

function writeSlot(ctrl: Int32Array, worker: number, calls: KernelCall[], names: string[]): void {
  const base = HEADER + worker * SLOT;
  let at = base + 1;
  for (const call of calls) {
    const fn = names.indexOf(call.name);
    if (fn < 0) throw new Error(`@convkit/backend: no SIMD kernel named ${call.name}`);
    if (call.args.length > MAX_ARGS) {
      throw new Error(`@convkit/backend: ${call.name} takes at most ${MAX_ARGS} arguments here`);
    }
    if (at + 2 + call.args.length > base + SLOT) {
      throw new Error(`@convkit/backend: too many kernel calls for one worker (${calls.length})`);
    }
    ctrl[at] = fn;
    ctrl[at + 1] = call.args.length;
    ctrl.set(call.args, at + 2);
    at += 2 + call.args.length;
  }
  ctrl[base] = calls.length;
}

/** Split [0, total) into `parts` contiguous ranges whose starts are multiples of `align`. */
export function splitRange(total: number, parts: number, align = 1): [number, number][] {
  const blocks = Math.ceil(total / align);
  const ranges: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const start = Math.min(total, Math.round((blocks * p) / parts) * align);
    const end = Math.min(total, Math.round((blocks * (p + 1)) / parts) * align);
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}
