import { fail } from '../internal/validate';
import { LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

/** A factor of the initial lr as a function of the epoch. */
export type LrLambda = (epoch: number) => number;

/**
 * `lr_e = base·λ(e)`, one λ for all groups or one per group (PyTorch `LambdaLR`). The functions
 * are not part of `stateDict()`; pass the same ones when restoring.
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: SchedulableOptimizer, lrLambda: LrLambda | LrLambda[]) {
    super('LambdaLR', optimizer);
    const n = optimizer.paramGroups.length;
    const lambdas = Array.isArray(lrLambda) ? [...lrLambda] : new Array<LrLambda>(n).fill(lrLambda);
    if (lambdas.length !== n)
      fail('LambdaLR', 'lrLambda.length', `${n} (one per parameter group)`, lambdas.length);
    lambdas.forEach((f, i) => {
      if (typeof f !== 'function') fail('LambdaLR', `lrLambda[${i}]`, 'a function of the epoch', f);
    });
    this.lrLambdas = lambdas;
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }
}
