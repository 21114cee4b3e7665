import type { BatchLogs, Callback, TrainingContext } from './callback';

/** Stop training at the first batch whose loss is NaN or infinite (stop reason `'nan'`). */
export class TerminateOnNaN implements Callback {
  readonly callbackName = 'TerminateOnNaN';
  /** Where the loss went non-finite, once it did. */
  at: { epoch: number; batch: number; loss: number } | undefined;

  onBatchEnd(logs: BatchLogs, context: TrainingContext): void {
    if (!Number.isFinite(logs.loss)) {
      this.at = { epoch: logs.epoch, batch: logs.batch, loss: logs.loss };
      context.stop('nan');
    }
  }
}
