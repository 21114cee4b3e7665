import { unknownNameMessage } from '@convkit/layers';
import type { Batch, DataSource, Schedule, TrainableModel, TrainOptimizer } from './types';

/** Logs after one batch (one micro-batch when accumulating gradients). */
export interface BatchLogs {
  /** Zero-based epoch index. */
  epoch: number;
  /** Zero-based batch index within the epoch. */
  batch: number;
  /** Samples in this batch. */
  size: number;
  /** This batch's loss (main loss plus weighted auxiliary losses). */
  loss: number;
  /** Running means over the epoch so far: `loss` and every metric. */
  running: { loss: number; metrics: Record<string, number> };
  /** Learning rate of the first parameter group. */
  lr: number;
  /** Samples seen so far this epoch, and seconds since the epoch began. */
  samples: number;
  seconds: number;
}

/** Logs after one epoch. */
export interface EpochLogs {
  /** Zero-based epoch index. */
  epoch: number;
  /** Mean training loss over the epoch's samples. */
  loss: number;
  /** Training metrics over the epoch. */
  metrics: Record<string, number>;
  /** Validation loss and metrics, when `validationData` is given. */
  valLoss?: number;
  valMetrics?: Record<string, number>;
  /** Learning rate used during the epoch (first parameter group). */
  lr: number;
  samples: number;
  batches: number;
  seconds: number;
}

/** Why `fit` returned. */
export type StopReason = 'completed' | 'early-stopping' | 'abort' | 'nan' | 'callback';

/** What callbacks see of the run; `stop(reason)` ends training after the current batch. */
export interface TrainingContext {
  readonly model: TrainableModel;
  readonly optimizer: TrainOptimizer;
  readonly data: DataSource<Batch>;
  /** Epoch logs so far (including epochs restored from a checkpoint). */
  readonly history: EpochLogs[];
  readonly params: {
    epochs: number;
    initialEpoch: number;
    /** Batches per epoch when the data says (`length` / `numBatches`) or after the first epoch. */
    batchesPerEpoch: number | undefined;
    accumulateSteps: number;
    metrics: string[];
    hasValidation: boolean;
  };
  /** Callbacks of this run, by `callbackName` (used by checkpoints to save their state). */
  readonly callbacks: ReadonlyMap<string, Callback>;
  /** The schedule given to `fit` (also reachable through its callback). */
  readonly schedule: Schedule | undefined;
  stopReason: StopReason | undefined;
  stop(reason?: StopReason): void;
}

/**
 * Hooks into `fit`, awaited in order (lower `order` first; checkpoints run last so that they
 * save the state every other callback left). Within a run the hooks come in this order:
 * `onTrainBegin`; per epoch `onEpochBegin`; per batch `onBatchBegin`, then `onOptimizerStep` when
 * the batch completed an optimizer step, then `onBatchEnd`; after the last batch `onOptimizerStep`
 * once more for a partial accumulation; `onEpochEnd` (after validation); last `onTrainEnd`. A callback with `stateDict` / `loadStateDict` has
 * its state saved in checkpoints and restored on resume, keyed by `callbackName`.
 */
export interface Callback {
  /** Key of this callback's state in checkpoints; defaults to the class name. */
  readonly callbackName?: string;
  /** Run order at each hook (default 0). */
  readonly order?: number;
  onTrainBegin?(context: TrainingContext): void | Promise<void>;
  onEpochBegin?(epoch: number, context: TrainingContext): void | Promise<void>;
  /** Before the step on batch `batch` (zero-based within `epoch`). */
  onBatchBegin?(epoch: number, batch: number, context: TrainingContext): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs, context: TrainingContext): void | Promise<void>;
  /** After each optimizer step (every `accumulateSteps` batches, and once for a partial
   * accumulation at the end of an epoch); `step` counts optimizer steps in this run. */
  onOptimizerStep?(step: number, context: TrainingContext): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, context: TrainingContext): void | Promise<void>;
  onTrainEnd?(context: TrainingContext): void | Promise<void>;
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
}

/**
 * Epoch logs under the one naming scheme every part of training uses (history series, CSV
 * columns, monitors of early stopping, checkpoints and plateau schedules): Keras's `loss`, each
 * metric (`accuracy`), `val_loss`, `val_<metric>` and `lr`.
 */
export function logValues(logs: EpochLogs): Map<string, number> {
  const out = new Map<string, number>([['loss', logs.loss]]);
  for (const [k, v] of Object.entries(logs.metrics)) out.set(k, v);
  if (logs.valLoss !== undefined) out.set('val_loss', logs.valLoss);
  for (const [k, v] of Object.entries(logs.valMetrics ?? {})) out.set(`val_${k}`, v);
  out.set('lr', logs.lr);
  return out;
}

/** A value from epoch logs by its name in `logValues`; undefined when the run does not log it. */
export function logValue(logs: EpochLogs, key: string): number | undefined {
  return logValues(logs).get(key);
}

/** The value `monitor` names, or an error that lists the logged names and the nearest one. */
export function monitoredValue(where: string, logs: EpochLogs, monitor: string): number {
  const values = logValues(logs);
  const value = values.get(monitor);
  if (value === undefined) {
    throw new Error(
      `${where}: the logs have no '${monitor}': ${unknownNameMessage('monitor', monitor, [...values.keys()])}`,
    );
  }
  return value;
}

/** Whether larger is better for `monitor` in mode 'auto' (accuracy-like names), as Keras. */
export function resolveMode(monitor: string, mode: 'min' | 'max' | 'auto'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|f1|precision|recall|iou/i.test(monitor) ? 'max' : 'min';
}
