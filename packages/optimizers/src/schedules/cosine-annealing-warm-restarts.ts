import { fail, nonNegative, positiveInteger } from '../internal/validate';
import {
  checkScheduleOptions,
  LRScheduler,
  type SchedulableOptimizer,
  type SchedulerStateDict,
} from './lr-scheduler';

export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart. */
  t0: number;
  /** Factor by which the period grows after each restart (integer >= 1, default 1). */
  tMult?: number;
  /** Minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * SGDR cosine annealing with warm restarts (PyTorch 1.13 `CosineAnnealingWarmRestarts`):
 * `lr = ηmin + (base − ηmin)(1 + cos(π·Tcur/Ti))/2`, where Tcur counts epochs since the last
 * restart and Ti (starting at t0) is multiplied by tMult at each restart.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  private tI: number;
  private tCur: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super('CosineAnnealingWarmRestarts', optimizer);
    checkScheduleOptions(
      'CosineAnnealingWarmRestarts',
      options,
      { t0: positiveInteger, tMult: positiveInteger, etaMin: nonNegative },
      ['t0'],
    );
    this.t0 = options.t0;
    this.tI = options.t0;
    this.tMult = options.tMult ?? 1;
    this.etaMin = options.etaMin ?? 0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { etaMin, tCur, tI } = this;
    return this.baseLrs.map(
      (b) => etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2,
    );
  }

  override step(): void {
    if (this.lastEpoch < 0) {
      this.stepToEpoch(0);
      return;
    }
    this.tCur += 1;
    if (this.tCur >= this.tI) {
      this.tCur -= this.tI;
      this.tI *= this.tMult;
    }
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.writeLr();
  }

  override stepToEpoch(epoch: number): void {
    if (epoch < 0) fail(this.name, 'epoch', '>= 0', epoch);
    if (epoch >= this.t0) {
      if (this.tMult === 1) {
        this.tCur = epoch % this.t0;
      } else {
        const n = Math.floor(
          Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult),
        );
        this.tCur = epoch - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
        this.tI = this.t0 * this.tMult ** n;
      }
    } else {
      this.tI = this.t0;
      this.tCur = epoch;
    }
    this.stepCount += 1;
    this.lastEpoch = Math.floor(epoch);
    this.writeLr();
  }

  protected override extraState(): Record<string, unknown> {
    return { tI: this.tI, tCur: this.tCur };
  }

  protected override loadExtraState(dict: SchedulerStateDict): void {
    this.tI = dict.tI as number;
    this.tCur = dict.tCur as number;
  }

  private writeLr(): void {
    const lrs = this.computeLr();
    this.groups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }
}
