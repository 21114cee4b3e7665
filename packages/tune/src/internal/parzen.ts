import type { RandomSource } from '@convkit/backend';

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** Standard normal CDF. */
function phi(z: number): number {
  return 0.5 * (1 + erf(z / SQRT2));
}

/** log(sum(exp(values))) without overflow. */
function logSumExp(values: number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * A Parzen estimator on [low, high]: a mixture of Gaussians truncated to the interval, one at
 * each observation plus a wide prior at the centre. Each observation's bandwidth is the larger
 * gap to its sorted neighbours (the interval's ends count as neighbours), clipped to
 * [(high - low) / min(100, n + 1), high - low]; the prior's is the interval's width.
 */
export class NumericParzen {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly logWeights: number[];
  private readonly logNorms: number[];

  constructor(
    observations: readonly number[],
    readonly low: number,
    readonly high: number,
    priorWeight = 1,
  ) {
    const width = high - low;
    const centre = (low + high) / 2;
    const all = [...observations.map((x) => ({ x, prior: false })), { x: centre, prior: true }];
    all.sort((a, b) => a.x - b.x);
    const n = observations.length;
    const minSigma = width / Math.min(100, n + 1);
    this.mus = [];
    this.sigmas = [];
    const weights: number[] = [];
    all.forEach(({ x, prior }, i) => {
      this.mus.push(x);
      if (prior) {
        this.sigmas.push(width);
        weights.push(priorWeight);
        return;
      }
      const left = x - (i > 0 ? all[i - 1].x : low);
      const right = (i < all.length - 1 ? all[i + 1].x : high) - x;
      this.sigmas.push(Math.min(width, Math.max(minSigma, left, right)));
      weights.push(1);
    });
    const total = weights.reduce((a, b) => a + b, 0);
    this.logWeights = weights.map((w) => Math.log(w / total));
    this.logNorms = this.mus.map((mu, i) => {
      const s = this.sigmas[i];
      return Math.log(Math.max(phi((high - mu) / s) - phi((low - mu) / s), 1e-300));
    });
  }

  /** One draw: pick a component by weight, then its truncated normal (by rejection). */
  sample(random: RandomSource): number {
    let u = random.next();
    let k = 0;
    for (; k < this.mus.length - 1; k++) {
      u -= Math.exp(this.logWeights[k]);
      if (u < 0) break;
    }
    for (let attempt = 0; attempt < 100; attempt++) {
      const x = random.normal(this.mus[k], this.sigmas[k]);
      if (x >= this.low && x <= this.high) return x;
    }
    return Math.min(this.high, Math.max(this.low, this.mus[k]));
  }

  /** log density at x. */
  logPdf(x: number): number {
    const terms = this.mus.map((mu, i) => {
      const s = this.sigmas[i];
      const z = (x - mu) / s;
      return this.logWeights[i] - 0.5 * z * z - LOG_SQRT_2PI - Math.log(s) - this.logNorms[i];
    });
    return logSumExp(terms);
  }
}

/** A categorical estimator: p(c) ∝ count(c) + priorWeight / K. */
export class CategoricalParzen {
  readonly logProbs: number[];

  constructor(observations: readonly number[], size: number, priorWeight = 1) {
    const counts = new Array(size).fill(priorWeight / size);
    for (const c of observations) counts[c] += 1;
    const total = counts.reduce((a, b) => a + b, 0);
    this.logProbs = counts.map((c) => Math.log(c / total));
  }

  sample(random: RandomSource): number {
    let u = random.next();
    for (let k = 0; k < this.logProbs.length - 1; k++) {
      u -= Math.exp(this.logProbs[k]);
      if (u < 0) return k;
    }
    return this.logProbs.length - 1;
  }

  logPdf(index: number): number {
    return this.logProbs[index];
  }
}
