import * as tf from '@tensorflow/tfjs-core';
import { checkStateKeys, StateDictError, stateProblem } from './stateful';

/**
 * A seeded random source (xoshiro128**, seeded through splitmix32) that every convkit package
 * draws from, so one `manualSeed(n)` reproduces initialization, dropout and shuffling.
 *
 * Numbers are generated on the CPU and uploaded, so a seed gives the same tensors on every
 * backend (cpu, wasm, webgpu, tfjs-node), which tfjs's own seeded ops do not promise.
 */
export class RandomSource {
  private s = new Uint32Array(4);
  /** A cached second normal sample from the Box-Muller pair. */
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Reset the stream: the same seed gives the same sequence. */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) {
      throw new Error(`RandomSource.seed: expected a finite number, received ${seed}`);
    }
    let x = Math.floor(seed) >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32 spreads a small integer seed over the whole state.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spareNormal = null;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Normal with the given mean and standard deviation (Box-Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Integer uniform in [low, high). */
  int(low: number, high: number): number {
    if (!(high > low)) {
      throw new Error(`RandomSource.int: expected high > low, received low=${low}, high=${high}`);
    }
    return low + Math.floor(this.next() * (high - low));
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  /** Fill a new Float32Array with uniform samples in [low, high). */
  uniformArray(size: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  /** Fill a new Float32Array with normal samples. */
  normalArray(size: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A tensor of uniform samples in [low, high). */
  uniformTensor(shape: number[], low = 0, high = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(sizeOf(shape), low, high), shape, 'float32');
  }

  /** A tensor of normal samples. */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(sizeOf(shape), mean, std), shape, 'float32');
  }

  /** A tensor of 0/1 values, each 1 with probability `p`: the mask behind dropout. */
  bernoulliTensor(shape: number[], p: number): tf.Tensor {
    if (!(p >= 0 && p <= 1)) {
      throw new Error(`RandomSource.bernoulliTensor: expected 0 <= p <= 1, received ${p}`);
    }
    const size = sizeOf(shape);
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = this.next() < p ? 1 : 0;
    return tf.tensor(out, shape, 'float32');
  }

  /** An independent stream derived from this one (for a worker, a data loader, ...). */
  fork(): RandomSource {
    const child = new RandomSource();
    child.s.set([this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()]);
    if (child.s.every((v) => v === 0)) child.s[0] = 1;
    return child;
  }

  /** The full state, to store in a checkpoint (the `Stateful` protocol). */
  stateDict(): RandomState {
    return { algorithm: 'xoshiro128**', state: Array.from(this.s), spareNormal: this.spareNormal };
  }

  /** Restore a state from `stateDict()`; the stream continues exactly where it was. */
  loadStateDict(state: RandomState): void {
    checkStateKeys('RandomSource', state, ['algorithm', 'state', 'spareNormal']);
    const problems: string[] = [];
    if (state.algorithm !== 'xoshiro128**') {
      problems.push(stateProblem('algorithm', "'xoshiro128**'", state.algorithm));
    }
    const words = state.state;
    const isWord = (v: unknown) =>
      Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
    // An all-zero state is the one xoshiro never leaves: it would yield zeros forever.
    if (
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every(isWord) ||
      words.every((v) => v === 0)
    ) {
      problems.push(stateProblem('state', '4 unsigned 32-bit integers, not all 0', words));
    }
    if (state.spareNormal !== null && !Number.isFinite(state.spareNormal)) {
      problems.push(stateProblem('spareNormal', 'null or a finite number', state.spareNormal));
    }
    if (problems.length > 0) throw new StateDictError('RandomSource', problems);
    this.s.set(words);
    this.spareNormal = state.spareNormal;
  }

  /** @deprecated Use `stateDict()` (the name every convkit state uses). */
  getState(): RandomState {
    return this.stateDict();
  }

  /** @deprecated Use `loadStateDict()` (the name every convkit state uses). */
  setState(state: RandomState): void {
    this.loadStateDict(state);
  }
}

export interface RandomState {
  algorithm: 'xoshiro128**';
  state: number[];
  spareNormal: number | null;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function sizeOf(shape: number[]): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `RandomSource: expected a shape of non-negative integers, received [${shape}]`,
      );
    }
    size *= d;
  }
  return size;
}

// The global source lives on globalThis so that the ESM and CJS copies of this package (or two
// bundled copies) share one stream: `manualSeed` must reach every package.
const GLOBAL_KEY = Symbol.for('convkit.globalRandom');

/** The random source shared by every convkit package. */
export function globalRandom(): RandomSource {
  const g = globalThis as unknown as Record<symbol, RandomSource | undefined>;
  let source = g[GLOBAL_KEY];
  if (!source) {
    source = new RandomSource(0);
    g[GLOBAL_KEY] = source;
  }
  return source;
}

/** Seed the shared random source, as `torch.manual_seed` does. */
export function manualSeed(seed: number): void {
  globalRandom().seed(seed);
}
