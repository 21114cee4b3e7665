import { fail, positiveInteger, unitClosed } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface LinearLROptions {
  /** Factor at epoch 0 (default 1/3; must be in (0, 1]). */
  startFactor?: number;
  /** Factor from `totalIters` on (default 1). */
  endFactor?: number;
  /** Epochs of the linear ramp (default 5). */
  totalIters?: number;
}

/**
 * Linear warm-up of the factor from `startFactor` to `endFactor` over `totalIters` epochs
 * (PyTorch `LinearLR`, chainable). Recursive form, for 0 < e <= totalIters:
 * `lr_e = lr_{e−1}·(1 + (end − start) / (totalIters·start + (e − 1)·(end − start)))`;
 * closed form `base·(start + (end − start)·min(totalIters, e) / totalIters)`.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    checkScheduleOptions('LinearLR', options, {
      startFactor: unitClosed,
      endFactor: unitClosed,
      totalIters: positiveInteger,
    });
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    if (this.startFactor === 0) fail('LinearLR', 'startFactor', 'in (0, 1]', 0);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    if (e === 0) return this.groups.map((g) => g.lr * this.startFactor);
    if (e > this.totalIters) return this.groups.map((g) => g.lr);
    const d = this.endFactor - this.startFactor;
    return this.groups.map(
      (g) => g.lr * (1 + d / (this.totalIters * this.startFactor + (e - 1) * d)),
    );
  }

  protected override closedFormLr(): number[] {
    const d = this.endFactor - this.startFactor;
    const e = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((b) => b * (this.startFactor + (d * e) / this.totalIters));
  }
}
