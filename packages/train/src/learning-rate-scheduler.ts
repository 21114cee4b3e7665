import type { Callback } from './callback';
import type { Schedule } from './types';

export interface LearningRateSchedulerOptions {
  /** `'epoch'` (default): `schedule.step()` after each epoch; `'batch'`: after each optimizer step. */
  stepOn?: 'epoch' | 'batch';
}

/**
 * Steps an LR schedule (any convkit schedule: StepLR, CosineAnnealingLR, OneCycleLR, ...) per
 * epoch or per optimizer step. `fit({ schedule })` adds one; checkpoints save the schedule's
 * state as `schedule`.
 */
export class LearningRateScheduler implements Callback {
  readonly callbackName = 'LearningRateScheduler';
  readonly stepOn: 'epoch' | 'batch';

  constructor(
    readonly schedule: Schedule,
    options: LearningRateSchedulerOptions = {},
  ) {
    if (schedule == null || typeof schedule.step !== 'function') {
      throw new Error(
        `LearningRateScheduler: expected a schedule with step(), received ${String(schedule)}`,
      );
    }
    this.stepOn = options.stepOn ?? 'epoch';
    if (this.stepOn !== 'epoch' && this.stepOn !== 'batch') {
      throw new Error(
        `LearningRateScheduler: expected stepOn 'epoch' or 'batch', received ${String(this.stepOn)}`,
      );
    }
  }

  onOptimizerStep(): void {
    if (this.stepOn === 'batch') this.schedule.step();
  }

  onEpochEnd(): void {
    if (this.stepOn === 'epoch') this.schedule.step();
  }
}
