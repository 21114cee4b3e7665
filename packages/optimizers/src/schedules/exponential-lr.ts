import { nonNegative } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface ExponentialLROptions {
  /** Multiplicative decay per epoch. */
  gamma: number;
}

/** `lr_e = lr_{e−1}·γ` (PyTorch `ExponentialLR`, chainable); closed form `base·γ^e`. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    checkScheduleOptions('ExponentialLR', options, { gamma: nonNegative }, ['gamma']);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}
