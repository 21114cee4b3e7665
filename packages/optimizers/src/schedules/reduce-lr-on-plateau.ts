import { checkStateKeys, fail, nonNegative, oneOf } from '../internal/validate';
import { checkScheduleOptions, type SchedulableOptimizer } from './lr-scheduler';

export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): the metric should decrease; `'max'`: increase. */
  mode?: 'min' | 'max';
  /** new lr = lr·factor (default 0.1, must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default): best·(1 ∓ threshold); `'abs'`: best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

/** JSON-serializable plateau state; `best` is null until a first metric is seen. */
export interface ReduceLROnPlateauStateDict {
  type: 'ReduceLROnPlateau';
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
}

const nonNegativeInteger = (v: unknown) =>
  Number.isInteger(v) && (v as number) >= 0
    ? null
    : { path: '', expected: 'a non-negative integer', received: v };

/**
 * Reduce the lr when a metric stops improving (PyTorch 1.13 `ReduceLROnPlateau`). Call
 * `step(metric)` once per epoch. After more than `patience` bad epochs, every group's lr becomes
 * `max(lr·factor, minLr)` (skipped when the change is <= eps), then `cooldown` epochs are
 * ignored. It multiplies the current group lr, so it composes with chainable schedules (StepLR,
 * MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR) stepped on the same optimizer:
 * their next step continues from the reduced lr. Closed-form schedules (LambdaLR, OneCycleLR,
 * CosineAnnealingWarmRestarts) overwrite the lr and would undo a reduction.
 */
export class ReduceLROnPlateau {
  readonly optimizer: SchedulableOptimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: SchedulableOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const owner = 'ReduceLROnPlateau';
    if (optimizer == null || !Array.isArray(optimizer.paramGroups))
      fail(owner, 'optimizer', 'a convkit optimizer', optimizer);
    checkScheduleOptions(owner, options, {
      mode: oneOf('min', 'max'),
      factor: nonNegative,
      patience: nonNegativeInteger,
      threshold: nonNegative,
      thresholdMode: oneOf('rel', 'abs'),
      cooldown: nonNegativeInteger,
      minLr: () => null,
      eps: nonNegative,
    });
    this.optimizer = optimizer;
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    if (this.factor >= 1) fail(owner, 'factor', '< 1', this.factor);
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    this.minLrs = minLrsOf(options.minLr ?? 0, optimizer.paramGroups.length);
    this.best = this.worst();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Record this epoch's metric and reduce the lr if it has plateaued. */
  step(metric: number): void {
    const current = Number(metric);
    if (Number.isNaN(current)) fail('ReduceLROnPlateau', 'step(metric)', 'a number', metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): ReduceLROnPlateauStateDict {
    const best = Number.isFinite(this.best) ? this.best : null;
    return {
      type: 'ReduceLROnPlateau',
      best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  loadStateDict(dict: ReduceLROnPlateauStateDict): void {
    checkStateKeys('ReduceLROnPlateau', dict, Object.keys(this.stateDict()));
    if (dict.type !== 'ReduceLROnPlateau')
      fail('ReduceLROnPlateau', 'loadStateDict(dict).type', '"ReduceLROnPlateau"', dict.type);
    this.best = dict.best ?? this.worst();
    this.numBadEpochs = dict.numBadEpochs;
    this.cooldownCounter = dict.cooldownCounter;
    this.lastEpoch = dict.lastEpoch;
    this.lastLr = [...dict.lastLr];
  }

  private worst(): number {
    return this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
      if (g.lr - newLr > this.eps) g.lr = newLr;
    });
  }
}

function minLrsOf(minLr: number | number[], n: number): number[] {
  if (!Array.isArray(minLr)) {
    if (!(typeof minLr === 'number' && minLr >= 0))
      fail('ReduceLROnPlateau', 'minLr', '>= 0', minLr);
    return new Array<number>(n).fill(minLr);
  }
  if (minLr.length !== n)
    fail('ReduceLROnPlateau', 'minLr.length', `${n} (one per parameter group)`, minLr.length);
  return [...minLr];
}
