import type { RandomSource } from '@convkit/backend';
import { resolveSeed, streamFor } from './internal/seed';

export interface StratifiedSplitOptions {
  /**
   * Split sizes: fractions summing to 1 (e.g. [0.8, 0.1, 0.1]) or integer counts summing to
   * the number of samples.
   */
  sizes: readonly number[];
  seed?: number;
  /** Where the seed is drawn from when `seed` is not given (default: the global source). */
  random?: RandomSource;
}

/** Largest-remainder rounding of `values` to integers with sum `total`. */
function roundToTotal(values: readonly number[], total: number): number[] {
  const floors = values.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = values
    .map((v, i) => ({ i, frac: v - Math.floor(v) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) floors[order[k].i]++;
  return floors;
}

/**
 * Split sample indices into parts (train / validation / test ...) that keep each class's
 * proportion: every part's size is exact (fractions are rounded by largest remainder), and
 * within each class the counts per part are within one of the ideal share. The samples of each
 * class are shuffled with a stream derived from the seed. Returns one sorted `Int32Array` of
 * indices per part; the parts are disjoint and cover every index.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  options: StratifiedSplitOptions,
): Int32Array[] {
  const n = labels.length;
  const sizes = options.sizes;
  if (sizes.length === 0 || sizes.some((s) => !(s >= 0))) {
    throw new Error(`stratifiedSplit: sizes must be non-negative numbers, received [${sizes}]`);
  }
  const sum = sizes.reduce((a, b) => a + b, 0);
  let totals: number[];
  if (sizes.every(Number.isInteger) && sum === n && sum !== 1) {
    totals = [...sizes];
  } else if (Math.abs(sum - 1) < 1e-9) {
    totals = roundToTotal(
      sizes.map((f) => f * n),
      n,
    );
  } else {
    throw new Error(
      `stratifiedSplit: sizes [${sizes}] must be fractions summing to 1 or counts summing to ${n}`,
    );
  }
  const seed = resolveSeed(options.seed, options.random);
  // Group indices by class (classes in increasing label order).
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    const list = byClass.get(label);
    if (list) list.push(i);
    else byClass.set(label, [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const parts = totals.length;
  // Quotas: round each class's ideal shares, then repair the column (part) totals by moving
  // single samples between parts inside the class whose rounding erred most in that direction.
  const ideal = classes.map((c) => totals.map((t) => (byClass.get(c)!.length * t) / n));
  const quota = classes.map((c, r) => roundToTotal(ideal[r], byClass.get(c)!.length));
  for (let guard = 0; guard < n * parts + 10; guard++) {
    const colSum = totals.map((_, j) => quota.reduce((a, row) => a + row[j], 0));
    const surplus = colSum.findIndex((v, j) => v > totals[j]);
    if (surplus < 0) break;
    const deficit = colSum.findIndex((v, j) => v < totals[j]);
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < classes.length; r++) {
      if (quota[r][surplus] < 1) continue;
      const score = quota[r][surplus] - ideal[r][surplus] - (quota[r][deficit] - ideal[r][deficit]);
      if (score > bestScore) {
        bestScore = score;
        best = r;
      }
    }
    if (best < 0) throw new Error('stratifiedSplit: cannot balance the parts (internal error)');
    quota[best][surplus]--;
    quota[best][deficit]++;
  }
  const out = totals.map((t) => new Int32Array(t));
  const filled = new Array(parts).fill(0);
  classes.forEach((c, r) => {
    const members = byClass.get(c)!;
    const perm = streamFor(seed, r, Math.floor(c) >>> 0).permutation(members.length);
    let k = 0;
    for (let j = 0; j < parts; j++) {
      for (let q = 0; q < quota[r][j]; q++) out[j][filled[j]++] = members[perm[k++]];
    }
  });
  for (const part of out) part.sort();
  return out;
}
