import { fail, nonNegative } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface MultiStepLROptions {
  /** Epochs at which to decay (a repeated milestone decays once per repetition). */
  milestones: number[];
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiply the lr by `gamma^count` at each milestone epoch (PyTorch `MultiStepLR`, chainable);
 * closed form `base·γ^(number of milestones <= e)`.
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    checkScheduleOptions('MultiStepLR', options, { milestones: () => null, gamma: nonNegative }, [
      'milestones',
    ]);
    const ms = options.milestones;
    if (!Array.isArray(ms) || ms.some((m) => !Number.isInteger(m) || m < 0)) {
      fail('MultiStepLR', 'milestones', 'an array of non-negative integers', ms);
    }
    this.milestones = [...ms].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
}
