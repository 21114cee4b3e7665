import { type Callback, type EpochLogs, monitoredValue } from './callback';

/** What the callback needs of a plateau scheduler (convkit's `ReduceLROnPlateau`). */
export interface PlateauScheduler {
  step(metric: number): void;
  stateDict?(): unknown;
  loadStateDict?(state: never): void;
}

/**
 * Feeds a logged value to a `ReduceLROnPlateau` from `@convkit/optimizers` after each epoch;
 * its state is saved in checkpoints.
 */
export class ReduceLROnPlateauCallback implements Callback {
  readonly callbackName = 'ReduceLROnPlateau';
  readonly monitor: string;

  constructor(
    readonly plateau: PlateauScheduler,
    options: { monitor?: string } = {},
  ) {
    if (plateau == null || typeof plateau.step !== 'function') {
      throw new Error(
        `ReduceLROnPlateauCallback: expected a ReduceLROnPlateau, received ${String(plateau)}`,
      );
    }
    this.monitor = options.monitor ?? 'val_loss';
  }

  onEpochEnd(logs: EpochLogs): void {
    const value = monitoredValue('ReduceLROnPlateauCallback', logs, this.monitor);
    this.plateau.step(value);
  }

  stateDict(): unknown {
    return this.plateau.stateDict?.() ?? null;
  }

  loadStateDict(state: unknown): void {
    if (state != null) this.plateau.loadStateDict?.(state as never);
  }
}
