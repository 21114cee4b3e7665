import { boolean, fail, oneOf, positive, positiveInteger, unitClosed } from '../internal/validate';
import {
  checkScheduleOptions,
  LRScheduler,
  type SchedulableOptimizer,
  type SchedulerStateDict,
} from './lr-scheduler';

export interface OneCycleLROptions {
  /** Peak learning rate, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** `'cos'` (default) or `'linear'`. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD) or beta1 (Adam family) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** A third phase that anneals from initialLr to minLr (fastai style), default false. */
  threePhase?: boolean;
}

type Key = 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum';
interface Phase {
  endStep: number;
  startLr: Key;
  endLr: Key;
  startMomentum: Key;
  endMomentum: Key;
}

/**
 * The 1cycle policy (PyTorch 1.13 `OneCycleLR`), stepped once per batch. The lr goes from
 * maxLr/divFactor up to maxLr over `pctStart` of the steps, then down to
 * maxLr/(divFactor·finalDivFactor) (or, with threePhase, back to the start then down), each
 * phase annealed by `anneal(start, end, pct)`: cos: `end + (start − end)/2·(1 + cos(π·pct))`,
 * linear: `(end − start)·pct + start`. Momentum (or beta1) cycles the opposite way between
 * maxMomentum and baseMomentum. Overwrites the group lr (not chainable).
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly cycleMomentum: boolean;
  private readonly useBeta1: boolean;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly perGroup: Array<Record<Key, number>>;

  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    super('OneCycleLR', optimizer);
    const perGroupNumber = (v: unknown) =>
      (Array.isArray(v) ? v : [v]).every((x) => typeof x === 'number' && x >= 0)
        ? null
        : { path: '', expected: 'a number >= 0 or one per group', received: v };
    checkScheduleOptions(
      'OneCycleLR',
      options,
      {
        maxLr: perGroupNumber,
        totalSteps: positiveInteger,
        epochs: positiveInteger,
        stepsPerEpoch: positiveInteger,
        pctStart: unitClosed,
        annealStrategy: oneOf('cos', 'linear'),
        cycleMomentum: boolean,
        baseMomentum: perGroupNumber,
        maxMomentum: perGroupNumber,
        divFactor: positive,
        finalDivFactor: positive,
        threePhase: boolean,
      },
      ['maxLr'],
    );
    this.totalSteps = totalStepsOf(options);
    const pct = options.pctStart ?? 0.3;
    this.phases = phases(options.threePhase ?? false, pct, this.totalSteps);
    this.anneal = (options.annealStrategy ?? 'cos') === 'cos' ? annealCos : annealLinear;
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = 'betas' in optimizer.defaults;
    if (this.cycleMomentum && !this.useBeta1 && !('momentum' in optimizer.defaults)) {
      fail(
        'OneCycleLR',
        'cycleMomentum',
        `false for ${optimizer.name} (it has neither momentum nor betas)`,
        true,
      );
    }
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    const maxLrs = this.perGroupValues('maxLr', options.maxLr);
    const maxMomenta = this.perGroupValues('maxMomentum', options.maxMomentum ?? 0.95);
    const baseMomenta = this.perGroupValues('baseMomentum', options.baseMomentum ?? 0.85);
    this.perGroup = this.groups.map((group, i) => {
      group.initialLr = maxLrs[i] / divFactor;
      if (this.cycleMomentum) this.setMomentum(i, maxMomenta[i]);
      return {
        initialLr: group.initialLr,
        maxLr: maxLrs[i],
        minLr: group.initialLr / finalDivFactor,
        maxMomentum: maxMomenta[i],
        baseMomentum: baseMomenta[i],
      };
    });
    this.baseLrs = this.groups.map((g) => g.initialLr!);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      fail(
        'OneCycleLR',
        'the number of steps',
        `<= totalSteps + 1 = ${this.totalSteps + 1}`,
        stepNum + 1,
      );
    }
    return this.perGroup.map((values, i) => {
      let start = 0;
      for (const [k, phase] of this.phases.entries()) {
        if (stepNum <= phase.endStep || k === this.phases.length - 1) {
          const pct = (stepNum - start) / (phase.endStep - start);
          if (this.cycleMomentum) {
            this.setMomentum(
              i,
              this.anneal(values[phase.startMomentum], values[phase.endMomentum], pct),
            );
          }
          return this.anneal(values[phase.startLr], values[phase.endLr], pct);
        }
        start = phase.endStep;
      }
      throw new Error('OneCycleLR: unreachable');
    });
  }

  protected override extraState(): Record<string, unknown> {
    return { perGroup: this.perGroup };
  }

  protected override loadExtraState(dict: SchedulerStateDict): void {
    this.perGroup.splice(0, this.perGroup.length, ...(dict.perGroup as Array<Record<Key, number>>));
  }

  private setMomentum(i: number, value: number): void {
    const group = this.groups[i];
    if (this.useBeta1) group.betas = [value, group.betas![1]];
    else group.momentum = value;
  }

  private perGroupValues(name: string, value: number | number[]): number[] {
    const n = this.groups.length;
    if (!Array.isArray(value)) return new Array<number>(n).fill(value);
    if (value.length !== n)
      fail('OneCycleLR', `${name}.length`, `${n} (one per parameter group)`, value.length);
    return value;
  }
}

function totalStepsOf(o: OneCycleLROptions): number {
  if (o.totalSteps !== undefined) return o.totalSteps;
  if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
    fail('OneCycleLR', 'totalSteps', 'given, or epochs and stepsPerEpoch', {
      epochs: o.epochs,
      stepsPerEpoch: o.stepsPerEpoch,
    });
  }
  return o.epochs * o.stepsPerEpoch;
}

function phases(threePhase: boolean, pct: number, total: number): Phase[] {
  if (threePhase) {
    return [
      {
        endStep: pct * total - 1,
        startLr: 'initialLr',
        endLr: 'maxLr',
        startMomentum: 'maxMomentum',
        endMomentum: 'baseMomentum',
      },
      {
        endStep: 2 * pct * total - 2,
        startLr: 'maxLr',
        endLr: 'initialLr',
        startMomentum: 'baseMomentum',
        endMomentum: 'maxMomentum',
      },
      {
        endStep: total - 1,
        startLr: 'initialLr',
        endLr: 'minLr',
        startMomentum: 'maxMomentum',
        endMomentum: 'maxMomentum',
      },
    ];
  }
  return [
    {
      endStep: pct * total - 1,
      startLr: 'initialLr',
      endLr: 'maxLr',
      startMomentum: 'maxMomentum',
      endMomentum: 'baseMomentum',
    },
    {
      endStep: total - 1,
      startLr: 'maxLr',
      endLr: 'minLr',
      startMomentum: 'baseMomentum',
      endMomentum: 'maxMomentum',
    },
  ];
}

function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2.0) * cosOut;
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}
