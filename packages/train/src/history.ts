import type { Callback, EpochLogs } from './callback';

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

  /** One series per logged value: `loss`, each metric, `val_loss`, `val_<metric>`, `lr`. */
  series(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    const push = (key: string, v: number | undefined) => {
      if (v === undefined) return;
      out[key] ??= [];
      out[key].push(v);
    };
    for (const e of this.epochs) {
      push('loss', e.loss);
      for (const [k, v] of Object.entries(e.metrics)) push(k, v);
      push('val_loss', e.valLoss);
      for (const [k, v] of Object.entries(e.valMetrics ?? {})) push(`val_${k}`, v);
      push('lr', e.lr);
    }
    return out;
  }
}
