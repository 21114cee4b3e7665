import * as tf from '@tensorflow/tfjs-core';
import type { BatchLogs, Callback, EpochLogs, TrainingContext } from './callback';

export interface TerminateOnNaNOptions {
  /**
   * Also check the trainable weights at the end of every epoch (one small asynchronous
   * read-back), so that a step which turned the weights non-finite after the epoch's last loss
   * stops the run before a checkpoint saves them. Default true.
   */
  checkWeights?: boolean;
}

/**
 * Stop training at the first batch whose loss is NaN or infinite (stop reason `'nan'`), or at the
 * end of an epoch whose mean loss, validation loss or (by default) weights are not finite. It runs
 * before `ModelCheckpoint`, which saves nothing once the run stopped for `'nan'`.
 */
export class TerminateOnNaN implements Callback {
  readonly callbackName = 'TerminateOnNaN';
  readonly checkWeights: boolean;
  /** Where the run went non-finite, once it did (`batch` is -1 for an end-of-epoch check). */
  at: { epoch: number; batch: number; loss: number; what: string } | undefined;

  constructor(options: TerminateOnNaNOptions = {}) {
    this.checkWeights = options.checkWeights ?? true;
  }

  onBatchEnd(logs: BatchLogs, context: TrainingContext): void {
    if (!Number.isFinite(logs.loss)) {
      this.at = { epoch: logs.epoch, batch: logs.batch, loss: logs.loss, what: 'loss' };
      context.stop('nan');
    }
  }

  async onEpochEnd(logs: EpochLogs, context: TrainingContext): Promise<void> {
    if (context.stopReason) return;
    const stop = (what: string, loss: number) => {
      this.at = { epoch: logs.epoch, batch: -1, loss, what };
      context.stop('nan');
    };
    if (!Number.isFinite(logs.loss)) return stop('epoch loss', logs.loss);
    if (logs.valLoss !== undefined && !Number.isFinite(logs.valLoss)) {
      return stop('validation loss', logs.valLoss);
    }
    if (this.checkWeights && !(await allFinite(context.model.trainableVariables()))) {
      stop('weights', logs.loss);
    }
  }
}

/** Whether every value of `tensors` is finite: `sum(x * 0)` is 0, else NaN (one read-back). */
async function allFinite(tensors: tf.Tensor[]): Promise<boolean> {
  if (tensors.length === 0) return true;
  const total = tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.mul(t, 0)))));
  try {
    const [value] = await total.data();
    return value === 0;
  } finally {
    total.dispose();
  }
}
