import { type Callback, type EpochLogs, logValues } from './callback';

/**
 * Records every epoch's logs (`fit` always adds one; its `epochs` is `FitResult.history`). Runs
 * before the other callbacks, so that a checkpoint written at the end of an epoch includes it.
 */
export class History implements Callback {
  readonly callbackName = 'History';
  readonly order = -100;
  readonly epochs: EpochLogs[] = [];

  onEpochEnd(logs: EpochLogs): void {
    this.epochs.push(logs);
  }

  /** One series per logged value, named as in `logValues`: `loss`, each metric, `val_loss`, `val_<metric>`, `lr`. */
  series(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const e of this.epochs) {
      for (const [key, value] of logValues(e)) {
        out[key] ??= [];
        out[key].push(value);
      }
    }
    return out;
  }
}
