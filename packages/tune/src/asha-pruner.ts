import { checkOption, type Pruner, type PrunerContext, valueAtOrAfter } from './pruner';
import type { TrialRecord } from './trial';

export interface AshaOptions {
  /** Resource (steps, e.g. epochs) of the first rung (default 1). */
  minResource?: number;
  /** η: each rung keeps the best 1/η of the trials that reached it (default 3). */
  reductionFactor?: number;
  /** s: the first rung is at minResource * η^s (default 0). */
  minEarlyStoppingRate?: number;
}

/**
 * Asynchronous successive halving (ASHA): rungs at steps `minResource * η^(s + k)`. When a trial
 * reaches a rung it continues only if its value there is among the best ⌊m/η⌋ (at least 1) of
 * the m trials that reached that rung (itself and the visible trials); otherwise it stops.
 * No trial waits for others, so workers are never idle.
 */
export class AshaPruner implements Pruner {
  readonly minResource: number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;

  constructor(options: AshaOptions = {}) {
    this.minResource = options.minResource ?? 1;
    this.reductionFactor = options.reductionFactor ?? 3;
    this.minEarlyStoppingRate = options.minEarlyStoppingRate ?? 0;
    checkOption('asha pruner', 'minResource', this.minResource, Number.MIN_VALUE, false);
    checkOption('asha pruner', 'reductionFactor', this.reductionFactor, 2, false);
    checkOption('asha pruner', 'minEarlyStoppingRate', this.minEarlyStoppingRate, 0);
  }

  /** The step of rung k. */
  rung(k: number): number {
    return this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + k);
  }

  shouldPrune(context: PrunerContext): boolean {
    return this.prune(context, context.history);
  }

  /** The ASHA decision against `competitors` (Hyperband passes its bracket's trials). */
  prune(
    { step, intermediate, direction }: PrunerContext,
    competitors: readonly TrialRecord[],
  ): boolean {
    const previous =
      intermediate.length >= 2 ? intermediate[intermediate.length - 2][0] : -Infinity;
    const value = intermediate[intermediate.length - 1][1];
    // Judge every rung crossed by this report (usually one, or none).
    for (let k = 0; this.rung(k) <= step; k++) {
      const rung = this.rung(k);
      if (rung <= previous) continue;
      const others: number[] = [];
      for (const trial of competitors) {
        const v = valueAtOrAfter(trial.intermediate, rung);
        if (v !== undefined) others.push(v);
      }
      const keep = Math.max(1, Math.floor((others.length + 1) / this.reductionFactor));
      const better = others.filter((v) =>
        direction === 'minimize' ? v < value : v > value,
      ).length;
      if (better >= keep) return true;
    }
    return false;
  }
}
