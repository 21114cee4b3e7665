import { checkOption, type Pruner, type PrunerContext } from './pruner';

export interface MedianOptions {
  /** No pruning until this many visible trials have reported at the step (default 5). */
  startupTrials?: number;
  /** No pruning at steps <= this (default 0). */
  warmupSteps?: number;
  /** Which percentile of the others' values is the bar (default 50: the median). */
  percentile?: number;
}

/**
 * The median rule: stop a trial whose best value so far is worse than the median (or another
 * percentile) of the values the visible trials reported at the same step.
 */
export class MedianPruner implements Pruner {
  readonly startupTrials: number;
  readonly warmupSteps: number;
  readonly percentile: number;

  constructor(options: MedianOptions = {}) {
    this.startupTrials = options.startupTrials ?? 5;
    this.warmupSteps = options.warmupSteps ?? 0;
    this.percentile = options.percentile ?? 50;
    checkOption('median pruner', 'startupTrials', this.startupTrials, 1);
    checkOption('median pruner', 'warmupSteps', this.warmupSteps, 0, false);
    checkOption('median pruner', 'percentile', this.percentile, 0, false);
    if (this.percentile > 100) {
      throw new Error(`median pruner: percentile must be <= 100, received ${this.percentile}`);
    }
  }

  shouldPrune({ step, intermediate, history, direction }: PrunerContext): boolean {
    if (step <= this.warmupSteps) return false;
    const others: number[] = [];
    for (const trial of history) {
      const at = trial.intermediate.find(([s]) => s === step);
      if (at) others.push(at[1]);
    }
    if (others.length < this.startupTrials) return false;
    const minimize = direction === 'minimize';
    let best = minimize ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    for (const [, v] of intermediate) best = minimize ? Math.min(best, v) : Math.max(best, v);
    // For maximizing, "worse than the p-th percentile from the good end" is the (100 - p)-th.
    const bar = percentileOf(others, minimize ? this.percentile : 100 - this.percentile);
    return minimize ? best > bar : best < bar;
  }
}

/** Linear-interpolated percentile (0..100) of `values` (non-empty). */
export function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
