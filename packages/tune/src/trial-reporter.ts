import { type Callback, type EpochLogs, logValue, type TrainingContext } from '@convkit/train';
import type { Trial } from './trial';

export interface TrialReporterOptions {
  /** The epoch-log value to report, by Keras name (default 'val_loss'; e.g. 'val_accuracy'). */
  monitor?: string;
}

/**
 * A `fit` callback that reports a monitored value to a trial after every epoch (step = epoch
 * number from 1) and stops training when the study's pruner stops the trial.
 */
export class TrialReporter implements Callback {
  readonly callbackName = 'TrialReporter';
  readonly monitor: string;
  private readonly trial: Trial<unknown>;

  constructor(trial: Trial<unknown>, options: TrialReporterOptions = {}) {
    this.trial = trial;
    this.monitor = options.monitor ?? 'val_loss';
  }

  onEpochEnd(logs: EpochLogs, context: TrainingContext): void {
    const value = logValue(logs, this.monitor);
    if (value === undefined) {
      const known = ['loss', 'lr', ...Object.keys(logs.metrics)];
      if (logs.valLoss !== undefined) known.push('val_loss');
      for (const k of Object.keys(logs.valMetrics ?? {})) known.push(`val_${k}`);
      throw new Error(
        `TrialReporter: monitor '${this.monitor}' is not in the epoch logs (available: ${known.join(', ')})`,
      );
    }
    if (this.trial.report(logs.epoch + 1, value)) context.stop('callback');
  }
}
