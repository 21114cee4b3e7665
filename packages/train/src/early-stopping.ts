import { checkStateKeys, StateDictError, stateProblem } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Callback,
  type EpochLogs,
  monitoredValue,
  resolveMode,
  type TrainingContext,
} from './callback';

export interface EarlyStoppingOptions {
  /** Logged value to watch (`val_loss`, `val_accuracy`, `loss`, a metric). Default `'val_loss'`. */
  monitor?: string;
  /** `'auto'` (default): max for accuracy-like names, else min. */
  mode?: 'min' | 'max' | 'auto';
  /** Epochs without improvement after which training stops (Keras semantics). Default 0. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping or at the end. Default false. */
  restoreBestWeights?: boolean;
}

/**
 * Stop training when `monitor` has not improved for `patience` epochs (Keras' EarlyStopping).
 * With `restoreBestWeights`, a copy of the state dict at the best epoch is kept as tensors
 * (replaced, never accumulated, and disposed at the end of training).
 */
export class EarlyStopping implements Callback {
  readonly callbackName = 'EarlyStopping';
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  best: number;
  bestEpoch = -1;
  wait = 0;
  stoppedEpoch: number | undefined;
  private bestWeights: Record<string, tf.Tensor> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.mode = resolveMode(this.monitor, options.mode ?? 'auto');
    this.patience = options.patience ?? 0;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new Error(
        `EarlyStopping: expected patience to be an integer >= 0, received ${options.patience}`,
      );
    }
    this.best = this.worst();
  }

  onTrainBegin(): void {
    this.stoppedEpoch = undefined;
  }

  onEpochEnd(logs: EpochLogs, context: TrainingContext): void {
    const value = monitoredValue('EarlyStopping', logs, this.monitor);
    if (this.improved(value)) {
      this.best = value;
      this.bestEpoch = logs.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.snapshot(context);
      return;
    }
    this.wait += 1;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = logs.epoch;
      context.stop('early-stopping');
    }
  }

  onTrainEnd(context: TrainingContext): void {
    if (this.bestWeights) {
      if (this.restoreBestWeights) context.model.loadStateDict(this.bestWeights);
      tf.dispose(Object.values(this.bestWeights));
      this.bestWeights = null;
    }
  }

  /** Best value, epoch and wait count (the weights copy is not saved). */
  stateDict(): { best: number | null; bestEpoch: number; wait: number } {
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      bestEpoch: this.bestEpoch,
      wait: this.wait,
    };
  }

  loadStateDict(state: unknown): void {
    checkStateKeys('EarlyStopping', state, ['best', 'bestEpoch', 'wait']);
    const s = state as ReturnType<EarlyStopping['stateDict']>;
    const problems: string[] = [];
    if (s.best !== null && !Number.isFinite(s.best)) {
      problems.push(stateProblem('best', 'null or a finite number', s.best));
    }
    if (!(Number.isInteger(s.bestEpoch) && s.bestEpoch >= -1)) {
      problems.push(stateProblem('bestEpoch', 'an integer >= -1', s.bestEpoch));
    }
    if (!(Number.isInteger(s.wait) && s.wait >= 0)) {
      problems.push(stateProblem('wait', 'an integer >= 0', s.wait));
    }
    if (problems.length > 0) throw new StateDictError('EarlyStopping', problems);
    this.best = s.best ?? this.worst();
    this.bestEpoch = s.bestEpoch;
    this.wait = s.wait;
  }

  private snapshot(context: TrainingContext): void {
    const copy = tf.tidy(() =>
      Object.fromEntries(
        Object.entries(context.model.stateDict()).map(([k, v]) => [k, tf.clone(v)]),
      ),
    );
    if (this.bestWeights) tf.dispose(Object.values(this.bestWeights));
    this.bestWeights = copy;
  }

  private improved(value: number): boolean {
    if (Number.isNaN(value)) return false;
    return this.mode === 'min'
      ? value < this.best - this.minDelta
      : value > this.best + this.minDelta;
  }

  private worst(): number {
    return this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
}
