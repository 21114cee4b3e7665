import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Info, KernelScope } from './kernel-scope';
import { type KernelCall, splitRange } from './kernel-workers';
import { type SimdKernels, simdKernelWorkers, tuning } from './simd-kernels';

/**
 * Per-channel passes over channels-last data (batch norm, the bias add and its gradient's
 * sum): the flat data is walked in blocks of P = lcm(C, 4) floats, so the channel of every
 * float in a block is fixed and a [P] pattern (a [C] vector repeated) lines up with each
 * block, 4 floats per SIMD step. The blocks go in fixed chunks of 128 KB; each chunk is one
 * kernel call (summing into accumulators of its own where it reduces), the chunks split
 * between convkit's kernel workers, and their sums folded into float64 per channel in chunk
 * order: the same bits on any thread count. The few floats past the last whole block are
 * the caller's, in JS.
 */

/** Floats per chunk (rounded down to whole blocks): 128 KB, a few per core. */
const CHUNK_FLOATS = 1 << 15;

export function lcm4(c: number): number {
  return c % 4 === 0 ? c : c % 2 === 0 ? 2 * c : 4 * c;
}

/** The walk of one tensor of `total` floats with `c` channels. */
export class ChannelWalk {
  readonly period: number;
  /** Floats in whole blocks; the rest (< P) is done in JS. */
  readonly whole: number;
  readonly chunks: [number, number][];

  constructor(
    readonly total: number,
    readonly c: number,
  ) {
    this.period = lcm4(c);
    this.whole = total - (total % this.period);
    const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / this.period)) * this.period;
    this.chunks = [];
    for (let start = 0; start < this.whole; start += chunk) {
      this.chunks.push([start, Math.min(this.whole, start + chunk)]);
    }
  }
}

/** Runs per-chunk calls on the kernel workers when there are any (else here), in order. */
export function runChunks(
  backend: BackendWasm,
  simd: SimdKernels,
  walk: ChannelWalk,
  call: (chunk: number, start: number, end: number) => KernelCall,
): void {
  const calls = walk.chunks.map(([start, end], i) => call(i, start, end));
  const workers = walk.whole >= tuning.parallelMinFloats ? simdKernelWorkers(backend) : undefined;
  if (workers && calls.length > 1) {
    workers.run(splitRange(calls.length, workers.threads).map(([a, b]) => calls.slice(a, b)));
    return;
  }
  for (const { name, args } of calls) {
    (simd[name as keyof SimdKernels] as (...a: number[]) => void)(...args);
  }
}

/** Per-channel float64 sums of `k` accumulators of [chunks, k, P] floats. */
export function foldChunks(
  scope: KernelScope,
  acc: Info,
  walk: ChannelWalk,
  k: number,
): Float64Array[] {
  const values = scope.f32(acc);
  const { period, c } = walk;
  const sums = Array.from({ length: k }, () => new Float64Array(c));
  for (let chunk = 0; chunk < walk.chunks.length; chunk++) {
    for (let which = 0; which < k; which++) {
      const base = (chunk * k + which) * period;
      const out = sums[which];
      for (let j = 0; j < period; j++) out[j % c] += values[base + j];
    }
  }
  return sums;
}

/** A [P] pattern: `values` ([C]) repeated. */
export function pattern(scope: KernelScope, walk: ChannelWalk, values: ArrayLike<number>): Info {
  const out = scope.alloc([walk.period]);
  const data = scope.f32(out);
  for (let j = 0; j < walk.period; j++) data[j] = values[j % walk.c];
  return out;
}
