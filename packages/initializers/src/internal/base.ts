import { computeFans, type Fans } from '@convkit/backend';
import { globalRandom, type RandomSource } from '@convkit/backend/random';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, Initializer, SampleOptions } from '../initializer';

/** Throw when `options` has a key outside `allowed` or is not a plain object. */
export function checkOptions(fn: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${fn}: expected an options object, received ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new Error(
        `${fn}: unknown option '${key}'; expected ${allowed.length ? allowed.map((k) => `'${k}'`).join(', ') : 'no options'}`,
      );
    }
  }
}

export function checkFinite(fn: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${fn}: expected ${name} to be a finite number, received ${String(value)}`);
  }
}

export function sizeOf(fn: string, shape: readonly number[]): number {
  if (!Array.isArray(shape))
    throw new Error(`${fn}: expected a shape array, received ${String(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `${fn}: expected a shape of non-negative integers, received [${shape.join(', ')}]`,
      );
    }
    size *= d;
  }
  return size;
}

/** The fans from `options.fans`, or computed from shape and layout. */
export function fansOf(fn: string, shape: readonly number[], options: SampleOptions = {}): Fans {
  if (options.fans) {
    const { fanIn, fanOut } = options.fans;
    if (!(Number.isFinite(fanIn) && fanIn >= 0 && Number.isFinite(fanOut) && fanOut >= 0)) {
      throw new Error(
        `${fn}: expected fans { fanIn, fanOut } of non-negative numbers, received ${JSON.stringify(options.fans)}`,
      );
    }
    return options.fans;
  }
  if (shape.length < 2) {
    throw new Error(
      `${fn}: cannot compute fans of a rank-${shape.length} shape [${shape.join(', ')}]; pass { fans } (for a bias, the fans of its weight)`,
    );
  }
  return computeFans(shape, options.layout ?? 'HWIO');
}

const SAMPLE_KEYS = ['fans', 'layout', 'random'] as const;

/** Draw `size` values from `d`. */
export function drawFrom(d: Distribution, size: number, random: RandomSource): Float32Array {
  switch (d.kind) {
    case 'constant':
      return new Float32Array(size).fill(d.value);
    case 'uniform':
      return random.uniformArray(size, d.low, d.high);
    case 'normal':
      return random.normalArray(size, d.mean, d.std);
    case 'truncatedNormal':
      return truncatedNormalArray(size, d, random);
  }
}

/**
 * Truncated normal samples: rejection from the normal when at least 25% of its mass lies in
 * [low, high] (the usual case, e.g. +-2 std keeps 95%), otherwise the inverse-CDF method that
 * torch.nn.init.trunc_normal_ uses. Values are clamped to [low, high] against rounding.
 */
function truncatedNormalArray(
  size: number,
  d: { mean: number; std: number; low: number; high: number },
  random: RandomSource,
): Float32Array {
  const out = new Float32Array(size);
  const { mean, std, low, high } = d;
  if (std === 0) return out.fill(Math.min(Math.max(mean, low), high));
  const cdfLow = normalCdf((low - mean) / std);
  const cdfHigh = normalCdf((high - mean) / std);
  if (cdfHigh - cdfLow >= 0.25) {
    for (let i = 0; i < size; i++) {
      let v = random.normal(mean, std);
      while (v < low || v > high) v = random.normal(mean, std);
      out[i] = v;
    }
  } else {
    for (let i = 0; i < size; i++) {
      const u = random.uniform(2 * cdfLow - 1, 2 * cdfHigh - 1);
      const v = mean + std * Math.SQRT2 * erfinv(u);
      out[i] = Math.min(Math.max(v, low), high);
    }
  }
  return out;
}

/** Build an i.i.d. initializer from its distribution. */
export function elementwise(
  name: string,
  config: Record<string, unknown>,
  distribution: (shape: readonly number[], options: SampleOptions) => Distribution,
): Initializer {
  const dist = (shape: readonly number[], options: SampleOptions = {}) => {
    checkOptions(`${name}.distribution`, options, SAMPLE_KEYS);
    sizeOf(name, shape);
    return distribution(shape, options);
  };
  return structured(
    name,
    config,
    (shape, options) => {
      const d = dist(shape, options);
      return drawFrom(d, sizeOf(name, shape), options.random ?? globalRandom());
    },
    dist,
  );
}

/** Build an initializer from a sampling function. */
export function structured(
  name: string,
  config: Record<string, unknown>,
  sampleFn: (shape: readonly number[], options: SampleOptions) => Float32Array,
  distribution?: Initializer['distribution'],
): Initializer {
  const frozen = Object.freeze({ ...config });
  const sample = (shape: readonly number[], options: SampleOptions = {}) => {
    checkOptions(`${name}.sample`, options, SAMPLE_KEYS);
    sizeOf(name, shape);
    return sampleFn(shape, options);
  };
  return Object.freeze({
    name,
    config: frozen,
    sample,
    tensor: (shape: readonly number[], options?: SampleOptions) =>
      tf.tensor(sample(shape, options), [...shape], 'float32'),
    ...(distribution ? { distribution } : {}),
    toJSON: () => ({ name, config: { ...frozen } }),
  });
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

/**
 * erf with ~1e-15 relative error: Maclaurin series for |x| < 2.5, continued fraction for
 * erfc beyond.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz-free backward)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** Inverse of erf on (-1, 1): Giles' approximation polished by Newton steps. */
export function erfinv(y: number): number {
  if (y <= -1) return Number.NEGATIVE_INFINITY;
  if (y >= 1) return Number.POSITIVE_INFINITY;
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    let p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
    x = p * y;
  }
  for (let i = 0; i < 2; i++) {
    const err = erf(x) - y;
    x -= err / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  }
  return x;
}
