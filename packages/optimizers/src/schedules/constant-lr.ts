import { positiveInteger, unitClosed } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface ConstantLROptions {
  /** Factor applied until `totalIters` (default 1/3; in [0, 1]). */
  factor?: number;
  /** Epochs with the reduced lr (default 5). */
  totalIters?: number;
}

/**
 * Multiply the lr by `factor` for the first `totalIters` epochs, then restore it (PyTorch
 * `ConstantLR`, chainable): epoch 0 multiplies the group lr by `factor`, epoch `totalIters`
 * divides it by `factor`; closed form `base·(factor + (e >= totalIters)·(1 − factor))`.
 */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: ConstantLROptions = {}) {
    super('ConstantLR', optimizer);
    checkScheduleOptions('ConstantLR', options, {
      factor: unitClosed,
      totalIters: positiveInteger,
    });
    this.factor = options.factor ?? 1 / 3;
    this.totalIters = options.totalIters ?? 5;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    if (e === 0) return this.groups.map((g) => g.lr * this.factor);
    if (e !== this.totalIters) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1.0 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const after = this.lastEpoch >= this.totalIters ? 1 : 0;
    return this.baseLrs.map((b) => b * (this.factor + after * (1 - this.factor)));
  }
}
