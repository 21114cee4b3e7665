import { nonNegative, positiveInteger } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface CosineAnnealingLROptions {
  /** Half period of the cosine, in epochs. */
  tMax: number;
  /** Minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` epochs (PyTorch 1.13
 * `CosineAnnealingLR`). It uses PyTorch's recursive (chainable) form, so its float64 sequence
 * is PyTorch's, not the closed form's:
 *
 * ```
 * e = 0:                              lr_e = lr_{e−1}
 * (e − 1 − T) % 2T == 0:              lr_e = lr_{e−1} + (base − ηmin)·(1 − cos(π/T))/2
 * otherwise:  lr_e = (1 + cos(πe/T)) / (1 + cos(π(e−1)/T))·(lr_{e−1} − ηmin) + ηmin
 * ```
 *
 * Closed form (used by SequentialLR at milestones): `ηmin + (base − ηmin)(1 + cos(πe/T))/2`.
 * Past `tMax` the lr rises again (the cosine continues), as in PyTorch.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    checkScheduleOptions(
      'CosineAnnealingLR',
      options,
      { tMax: positiveInteger, etaMin: nonNegative },
      ['tMax'],
    );
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { tMax: T, etaMin, lastEpoch: e } = this;
    if (e === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.closedFormLr();
    if ((e - 1 - T) % (2 * T) === 0) {
      return this.groups.map(
        (g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2,
      );
    }
    return this.groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) *
          (g.lr - etaMin) +
        etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    const { tMax: T, etaMin, lastEpoch: e } = this;
    return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * e) / T))) / 2);
  }
}
