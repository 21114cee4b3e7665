import { fail } from '../internal/validate';
import type { LrLambda } from './lambda-lr';
import { LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

/**
 * `lr_e = lr_{e−1}·λ(e)` for e > 0, one λ for all groups or one per group (PyTorch
 * `MultiplicativeLR`, chainable). The functions are not part of `stateDict()`; pass the same
 * ones when restoring.
 */
export class MultiplicativeLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: SchedulableOptimizer, lrLambda: LrLambda | LrLambda[]) {
    super('MultiplicativeLR', optimizer);
    const n = optimizer.paramGroups.length;
    const lambdas = Array.isArray(lrLambda) ? [...lrLambda] : new Array<LrLambda>(n).fill(lrLambda);
    if (lambdas.length !== n)
      fail('MultiplicativeLR', 'lrLambda.length', `${n} (one per parameter group)`, lambdas.length);
    lambdas.forEach((f, i) => {
      if (typeof f !== 'function')
        fail('MultiplicativeLR', `lrLambda[${i}]`, 'a function of the epoch', f);
    });
    this.lrLambdas = lambdas;
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch <= 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g, i) => g.lr * this.lrLambdas[i](this.lastEpoch));
  }
}
