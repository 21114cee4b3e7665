import { AshaPruner } from './asha-pruner';
import { checkOption, type Pruner, type PrunerContext } from './pruner';

export interface HyperbandOptions {
  /** Steps of the most aggressive bracket's first rung (default 1). */
  minResource?: number;
  /** The most steps a trial runs (e.g. the epoch budget). */
  maxResource: number;
  /** η (default 3). */
  reductionFactor?: number;
}

/**
 * Hyperband: several successive-halving brackets, from aggressive (first rung at `minResource`)
 * to none (first rung at `maxResource`), each run as ASHA among its own trials. Trial n goes
 * to a bracket by Hyperband's allocation (more trials to the aggressive brackets), decided
 * from n alone so every worker agrees.
 */
export class HyperbandPruner implements Pruner {
  readonly brackets: AshaPruner[];
  /** Trials per bracket in one round of the allocation. */
  readonly allocation: number[];

  constructor(options: HyperbandOptions) {
    const minResource = options.minResource ?? 1;
    const eta = options.reductionFactor ?? 3;
    checkOption('hyperband pruner', 'minResource', minResource, Number.MIN_VALUE, false);
    checkOption('hyperband pruner', 'maxResource', options?.maxResource, minResource, false);
    checkOption('hyperband pruner', 'reductionFactor', eta, 2, false);
    const count =
      Math.floor(Math.log(options.maxResource / minResource) / Math.log(eta) + 1e-9) + 1;
    this.brackets = [];
    this.allocation = [];
    for (let b = 0; b < count; b++) {
      this.brackets.push(
        new AshaPruner({ minResource, reductionFactor: eta, minEarlyStoppingRate: b }),
      );
      // Hyperband's n for the bracket with s = count - 1 - b halvings.
      const s = count - 1 - b;
      this.allocation.push(Math.ceil((count / (s + 1)) * eta ** s));
    }
  }

  /** The bracket of trial `number`. */
  bracketOf(number: number): number {
    const total = this.allocation.reduce((a, b) => a + b, 0);
    let slot = number % total;
    for (let b = 0; b < this.allocation.length; b++) {
      if (slot < this.allocation[b]) return b;
      slot -= this.allocation[b];
    }
    return this.allocation.length - 1;
  }

  shouldPrune(context: PrunerContext): boolean {
    const bracket = this.bracketOf(context.number);
    const mates = context.history.filter((t) => this.bracketOf(t.number) === bracket);
    return this.brackets[bracket].prune(context, mates);
  }
}
