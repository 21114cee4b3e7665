import { positiveInteger } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface PolynomialLROptions {
  /** Epochs over which the lr decays to 0 (default 5). */
  totalIters?: number;
  /** Power of the polynomial (default 1: linear decay). */
  power?: number;
}

const finitePower = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0
    ? null
    : { path: '', expected: 'a finite number >= 0', received: v };

/**
 * Polynomial decay to 0 over `totalIters` epochs (PyTorch 1.13 `PolynomialLR`, chainable):
 * `lr_e = lr_{e−1}·((1 − e/T) / (1 − (e − 1)/T))^power` for 0 < e <= T, unchanged after;
 * closed form `base·(1 − min(T, e)/T)^power`.
 */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: SchedulableOptimizer, options: PolynomialLROptions = {}) {
    super('PolynomialLR', optimizer);
    checkScheduleOptions('PolynomialLR', options, {
      totalIters: positiveInteger,
      power: finitePower,
    });
    this.totalIters = options.totalIters ?? 5;
    this.power = options.power ?? 1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    const t = this.totalIters;
    if (e === 0 || e > t) return this.groups.map((g) => g.lr);
    const decay = ((1.0 - e / t) / (1.0 - (e - 1) / t)) ** this.power;
    return this.groups.map((g) => g.lr * decay);
  }

  protected override closedFormLr(): number[] {
    const e = Math.min(this.totalIters, this.lastEpoch);
    return this.baseLrs.map((b) => b * (1.0 - e / this.totalIters) ** this.power);
  }
}
