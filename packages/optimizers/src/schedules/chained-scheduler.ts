import { fail } from '../internal/validate';
import { LRScheduler, type SchedulerStateDict } from './lr-scheduler';

/**
 * Step several schedules of one optimizer together (PyTorch `ChainedScheduler`): `step()` steps
 * each in order, so chainable schedules multiply their factors (ConstantLR warm-up with an
 * ExponentialLR decay, for instance). `getLastLr()` is the groups' lr after the last one.
 */
export class ChainedScheduler extends LRScheduler {
  readonly schedulers: LRScheduler[];

  constructor(schedulers: LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      fail('ChainedScheduler', 'schedulers', 'a non-empty array of schedules', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler))
        fail('ChainedScheduler', `schedulers[${i}]`, 'a schedule (LRScheduler)', s);
    });
    super('ChainedScheduler', schedulers[0].optimizer);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== this.optimizer) {
        fail(
          'ChainedScheduler',
          `schedulers[${i}].optimizer`,
          'the optimizer of schedulers[0]',
          s.optimizer?.name,
        );
      }
    });
    this.schedulers = [...schedulers];
    this.lastLr = this.groups.map((g) => g.lr);
  }

  protected computeLr(): number[] {
    return this.groups.map((g) => g.lr);
  }

  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.groups.map((g) => g.lr);
  }

  override stepToEpoch(): void {
    throw new Error('ChainedScheduler: stepToEpoch is not supported (PyTorch has no closed form)');
  }

  protected override extraState(): Record<string, unknown> {
    return { schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  protected override loadExtraState(dict: SchedulerStateDict): void {
    const saved = dict.schedulers as SchedulerStateDict[];
    if (!Array.isArray(saved) || saved.length !== this.schedulers.length) {
      fail(
        'ChainedScheduler',
        'loadStateDict(dict).schedulers.length',
        String(this.schedulers.length),
        saved?.length,
      );
    }
    saved.forEach((s, i) => {
      this.schedulers[i].loadStateDict(s);
    });
  }
}
