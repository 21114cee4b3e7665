import {
  type Callback,
  type EpochLogs,
  monitoredValue,
  resolveMode,
  type TrainingContext,
} from './callback';
import { saveCheckpoint } from './checkpoint';
import { nodeModules } from './internal/node-files';

export interface ModelCheckpointOptions {
  /** Directory holding `last/` and `best/` checkpoints (Node). */
  dir: string;
  /** Value deciding the best epoch. Default `'val_loss'` (or `'loss'` without validation data). */
  monitor?: string;
  mode?: 'min' | 'max' | 'auto';
  /** Keep `<dir>/last` up to date. Default true. */
  saveLast?: boolean;
  /** Keep `<dir>/best` at the best epoch so far. Default true. */
  saveBest?: boolean;
  /** Save every this many epochs (the best is checked every epoch). Default 1. */
  every?: number;
  /** JSON-serializable extras stored in each manifest. */
  extra?: Record<string, unknown>;
}

/**
 * Writes complete, resumable checkpoints (see `saveCheckpoint`): `<dir>/last` after every
 * `every` epochs and `<dir>/best` when `monitor` improves. It runs after every other callback, so
 * it saves the state they leave (stepped schedules, early-stopping counters).
 */
export class ModelCheckpoint implements Callback {
  readonly callbackName = 'ModelCheckpoint';
  readonly order = 100;
  readonly dir: string;
  readonly saveLast: boolean;
  readonly saveBest: boolean;
  readonly every: number;
  private monitorOption: string | undefined;
  private modeOption: 'min' | 'max' | 'auto';
  best: number | null = null;
  /** Paths written by the last epoch. */
  saved: string[] = [];

  constructor(private readonly options: ModelCheckpointOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new Error(
        `ModelCheckpoint: expected dir to be a directory path, received ${String(options?.dir)}`,
      );
    }
    this.dir = options.dir;
    this.saveLast = options.saveLast ?? true;
    this.saveBest = options.saveBest ?? true;
    this.every = options.every ?? 1;
    this.monitorOption = options.monitor;
    this.modeOption = options.mode ?? 'auto';
  }

  /** The monitored value's name for this run. */
  monitorFor(context: TrainingContext): string {
    return this.monitorOption ?? (context.params.hasValidation ? 'val_loss' : 'loss');
  }

  async onEpochEnd(logs: EpochLogs, context: TrainingContext): Promise<void> {
    const { path } = await nodeModules();
    const monitor = this.monitorFor(context);
    const mode = resolveMode(monitor, this.modeOption);
    const value = monitoredValue('ModelCheckpoint', logs, monitor);
    const improved =
      !Number.isNaN(value) &&
      (this.best === null || (mode === 'min' ? value < this.best : value > this.best));
    if (improved) this.best = value;
    this.saved = [];
    const save = async (where: string) => {
      const dir = path.join(this.dir, where);
      await saveCheckpoint(dir, {
        model: context.model,
        epoch: logs.epoch + 1,
        optimizer: context.optimizer,
        schedule: context.schedule,
        data: context.data,
        callbacks: context.callbacks,
        history: context.history,
        extra: { ...this.options.extra, monitor, best: this.best },
      });
      this.saved.push(dir);
    };
    if (this.saveBest && improved) await save('best');
    if (this.saveLast && (logs.epoch + 1) % this.every === 0) await save('last');
  }

  stateDict(): { best: number | null } {
    return { best: this.best };
  }

  loadStateDict(state: unknown): void {
    this.best = (state as { best: number | null }).best;
  }
}
