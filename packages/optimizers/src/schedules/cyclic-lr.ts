import { boolean, fail, oneOf, positive } from '../internal/validate';
import { checkScheduleOptions, LRScheduler, type SchedulableOptimizer } from './lr-scheduler';

export interface CyclicLROptions {
  /** Lower lr of the cycle, one for all groups or one per group (written into the groups). */
  baseLr: number | number[];
  /** Upper lr of the cycle, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps of the increasing half (default 2000). */
  stepSizeUp?: number;
  /** Steps of the decreasing half (default `stepSizeUp`). */
  stepSizeDown?: number;
  /** Amplitude policy (default 'triangular'); ignored when `scaleFn` is given. */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** `exp_range`'s amplitude factor per step: gamma^step (default 1). */
  gamma?: number;
  /** A custom amplitude of the cycle (or step) number, in [0, 1]; replaces `mode`. Not saved. */
  scaleFn?: (x: number) => number;
  /** What `scaleFn` receives: the cycle number (default) or the step number. */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (SGD, RMSprop) or beta1 (Adam family) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lower momentum, reached at the lr peak (default 0.8). */
  baseMomentum?: number | number[];
  /** Upper momentum, at the lr trough (default 0.9). */
  maxMomentum?: number | number[];
}

const perGroupNumber = (v: unknown) =>
  (Array.isArray(v) ? v : [v]).every((x) => typeof x === 'number' && x >= 0)
    ? null
    : { path: '', expected: 'a number >= 0 or one per group', received: v };

const RULES = {
  baseLr: perGroupNumber,
  maxLr: perGroupNumber,
  stepSizeUp: positive,
  stepSizeDown: positive,
  mode: oneOf('triangular', 'triangular2', 'exp_range'),
  gamma: positive,
  scaleFn: (v: unknown) =>
    typeof v === 'function' ? null : { path: '', expected: 'a function', received: v },
  scaleMode: oneOf('cycle', 'iterations'),
  cycleMomentum: boolean,
  baseMomentum: perGroupNumber,
  maxMomentum: perGroupNumber,
};

/** One value per group from a number or an array (PyTorch's `_format_param`). */
function perGroup(optimizer: SchedulableOptimizer, name: string, value: number | number[]) {
  const n = optimizer.paramGroups.length;
  if (!Array.isArray(value)) return new Array<number>(n).fill(value);
  if (value.length !== n)
    fail('CyclicLR', `${name}.length`, `${n} (one per parameter group)`, value.length);
  return [...value];
}

/**
 * Cyclical learning rates (PyTorch 1.13 `CyclicLR`, Smith 2017), stepped once per batch. The lr
 * goes linearly from `baseLr` up to `maxLr` over `stepSizeUp` steps and back over `stepSizeDown`,
 * the amplitude scaled per cycle: 'triangular' 1, 'triangular2' 1/2^(cycle−1), 'exp_range'
 * gamma^step. With `cycleMomentum`, the momentum (or Adam's beta1) goes the opposite way
 * between `maxMomentum` and `baseMomentum`. Overwrites the group lr (not chainable).
 *
 * ```
 * cycle = floor(1 + t / (up + down));  x = 1 + t / (up + down) − cycle
 * f = x <= up/(up+down) ? x / ratio : (x − 1) / (ratio − 1)
 * lr = baseLr + (maxLr − baseLr)·f·scale;  momentum = maxMomentum − (maxMomentum − baseMomentum)·f·scale
 * ```
 */
export class CyclicLR extends LRScheduler {
  readonly maxLrs: number[];
  readonly totalSize: number;
  readonly stepRatio: number;
  readonly mode: 'triangular' | 'triangular2' | 'exp_range';
  readonly gamma: number;
  readonly scaleMode: 'cycle' | 'iterations';
  readonly cycleMomentum: boolean;
  readonly baseMomenta: number[];
  readonly maxMomenta: number[];
  private readonly scale: (x: number) => number;
  private readonly useBeta1: boolean;

  constructor(optimizer: SchedulableOptimizer, options: CyclicLROptions) {
    if (optimizer == null || !Array.isArray(optimizer.paramGroups)) {
      fail('CyclicLR', 'optimizer', 'a convkit optimizer', optimizer);
    }
    checkScheduleOptions('CyclicLR', options, RULES, ['baseLr', 'maxLr']);
    // As PyTorch: the base lr is written into the groups before the schedule attaches, so it
    // becomes their initial lr.
    const baseLrs = perGroup(optimizer, 'baseLr', options.baseLr);
    optimizer.paramGroups.forEach((g, i) => {
      g.lr = baseLrs[i];
    });
    super('CyclicLR', optimizer);
    this.baseLrs = baseLrs;
    this.maxLrs = perGroup(optimizer, 'maxLr', options.maxLr);
    const up = options.stepSizeUp ?? 2000;
    const down = options.stepSizeDown ?? up;
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.mode = options.mode ?? 'triangular';
    this.gamma = options.gamma ?? 1;
    if (options.scaleFn) {
      this.scale = options.scaleFn;
      this.scaleMode = options.scaleMode ?? 'cycle';
    } else {
      const gamma = this.gamma;
      this.scale =
        this.mode === 'triangular'
          ? () => 1
          : this.mode === 'triangular2'
            ? (x) => 1 / 2.0 ** (x - 1)
            : (x) => gamma ** x;
      this.scaleMode = this.mode === 'exp_range' ? 'iterations' : 'cycle';
    }
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = !('momentum' in optimizer.defaults) && 'betas' in optimizer.defaults;
    if (this.cycleMomentum && !('momentum' in optimizer.defaults) && !this.useBeta1) {
      fail(
        'CyclicLR',
        'cycleMomentum',
        `false for ${optimizer.name} (it has neither momentum nor betas)`,
        true,
      );
    }
    this.baseMomenta = [];
    this.maxMomenta = [];
    if (this.cycleMomentum) {
      const base = perGroup(optimizer, 'baseMomentum', options.baseMomentum ?? 0.8);
      this.groups.forEach((_, i) => {
        this.setMomentum(i, base[i]);
      });
      this.baseMomenta.push(...base);
      this.maxMomenta.push(...perGroup(optimizer, 'maxMomentum', options.maxMomentum ?? 0.9));
    }
    this.initialStep();
  }

  protected computeLr(): number[] {
    const t = this.lastEpoch;
    const cycle = Math.floor(1 + t / this.totalSize);
    const x = 1.0 + t / this.totalSize - cycle;
    const factor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = this.scale(this.scaleMode === 'cycle' ? cycle : t);
    const lrs = this.baseLrs.map((base, i) => base + (this.maxLrs[i] - base) * factor * scale);
    if (this.cycleMomentum) {
      this.maxMomenta.forEach((max, i) => {
        this.setMomentum(i, max - (max - this.baseMomenta[i]) * factor * scale);
      });
    }
    return lrs;
  }

  private setMomentum(i: number, value: number): void {
    const group = this.groups[i];
    if (this.useBeta1) group.betas = [value, group.betas![1]];
    else group.momentum = value;
  }
}
