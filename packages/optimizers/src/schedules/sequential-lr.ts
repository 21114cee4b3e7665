import { fail } from '../internal/validate';
import { LRScheduler, type SchedulableOptimizer, type SchedulerStateDict } from './lr-scheduler';

export interface SequentialLROptions {
  /** Schedules built on the same optimizer, run one after another. */
  schedulers: LRScheduler[];
  /** Epochs at which to switch to the next schedule (one fewer than schedulers). */
  milestones: number[];
}

/**
 * Run schedules one after another (PyTorch 1.13 `SequentialLR`): epochs before
 * `milestones[0]` use `schedulers[0]`, and so on. At each milestone the next schedule restarts
 * from its epoch 0 (closed form); otherwise the active schedule takes a normal step. As in
 * PyTorch, constructing the inner schedules already stepped them once; SequentialLR resets the
 * groups to their initial lr and rewinds every inner schedule by one epoch.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(optimizer: SchedulableOptimizer, options: SequentialLROptions) {
    super('SequentialLR', optimizer);
    const { schedulers, milestones } = options ?? ({} as SequentialLROptions);
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      fail('SequentialLR', 'schedulers', 'a non-empty array of schedules', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer)
        fail(
          'SequentialLR',
          `schedulers[${i}].optimizer`,
          'the optimizer passed in',
          s.optimizer?.name,
        );
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      fail(
        'SequentialLR',
        'milestones.length',
        `${schedulers.length - 1} (one fewer than schedulers)`,
        milestones?.length,
      );
    }
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = 0;
    for (const g of this.groups) g.lr = g.initialLr!;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0].initialStep();
    this.lastLr = schedulers[0].getLastLr();
  }

  protected computeLr(): number[] {
    return this.groups.map((g) => g.lr);
  }

  override step(): void {
    this.lastEpoch += 1;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepToEpoch(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  protected override extraState(): Record<string, unknown> {
    return { schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  protected override loadExtraState(dict: SchedulerStateDict): void {
    (dict.schedulers as SchedulerStateDict[]).forEach((s, i) => {
      this.schedulers[i].loadStateDict(s);
    });
  }
}
