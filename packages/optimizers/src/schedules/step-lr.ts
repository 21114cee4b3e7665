import { nonNegative, positiveInteger } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface StepLROptions {
  /** Decay every `stepSize` epochs. */
  stepSize: number;
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiply the lr by `gamma` every `stepSize` epochs (PyTorch `StepLR`, chainable):
 * `lr_e = lr_{e−1}·γ` when `e % stepSize == 0` (e > 0), else `lr_{e−1}`;
 * closed form `base·γ^⌊e / stepSize⌋`.
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: StepLROptions) {
    super('StepLR', optimizer);
    checkScheduleOptions('StepLR', options, { stepSize: positiveInteger, gamma: nonNegative }, [
      'stepSize',
    ]);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0)
      return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}
