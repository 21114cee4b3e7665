import { checkStateKeys, StateDictError, stateProblem } from '@convkit/backend';
import {
  type Callback,
  type EpochLogs,
  monitoredValue,
  resolveMode,
  type TrainingContext,
} from './callback';
import { CHECKPOINT_MANIFEST, saveCheckpoint } from './checkpoint';
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
 * it saves the state they leave (stepped schedules, early-stopping counters), and saves nothing
 * once the run stopped for `'nan'` (see `TerminateOnNaN`).
 *
 * `last/` is written before `best/`, and `last/` records which epoch is the best. A kill between
 * the two saves therefore leaves a resumable `last/` whose state names the best epoch; when a run
 * resumes from it and `best/` does not hold that epoch, `best/` is rewritten from the restored
 * state before training continues, so the pair is consistent again.
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
  /** Completed epochs at the best value (the `epoch` of the checkpoint `best/` should hold). */
  bestEpoch: number | null = null;
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

  /** On resume: rewrite `best/` from the restored state if a kill left it behind `last/`. */
  async onTrainBegin(context: TrainingContext): Promise<void> {
    const epoch = context.params.initialEpoch;
    if (!this.saveBest || this.bestEpoch === null || this.bestEpoch !== epoch) return;
    const { fs, path } = await nodeModules();
    let saved: number | null = null;
    try {
      const text = await fs.readFile(path.join(this.dir, 'best', CHECKPOINT_MANIFEST), 'utf8');
      saved = (JSON.parse(text) as { epoch?: number }).epoch ?? null;
    } catch {
      saved = null;
    }
    if (saved !== epoch) {
      await this.save('best', epoch, this.monitorFor(context), context);
    }
  }

  private async save(
    where: 'best' | 'last',
    epoch: number,
    monitor: string,
    context: TrainingContext,
  ): Promise<string> {
    const { path } = await nodeModules();
    const dir = path.join(this.dir, where);
    await saveCheckpoint(dir, {
      model: context.model,
      epoch,
      optimizer: context.optimizer,
      schedule: context.schedule,
      data: context.data,
      callbacks: context.callbacks,
      history: context.history,
      extra: { ...this.options.extra, monitor, best: this.best, bestEpoch: this.bestEpoch },
    });
    return dir;
  }

  async onEpochEnd(logs: EpochLogs, context: TrainingContext): Promise<void> {
    if (context.stopReason === 'nan') return;
    const monitor = this.monitorFor(context);
    const mode = resolveMode(monitor, this.modeOption);
    const value = monitoredValue('ModelCheckpoint', logs, monitor);
    const improved =
      !Number.isNaN(value) &&
      (this.best === null || (mode === 'min' ? value < this.best : value > this.best));
    if (improved) {
      this.best = value;
      this.bestEpoch = logs.epoch + 1;
    }
    this.saved = [];
    // last/ first: it carries bestEpoch, from which a resumed run repairs best/ (onTrainBegin).
    if (this.saveLast && (logs.epoch + 1) % this.every === 0) {
      this.saved.push(await this.save('last', logs.epoch + 1, monitor, context));
    }
    if (this.saveBest && improved) {
      this.saved.push(await this.save('best', logs.epoch + 1, monitor, context));
    }
  }

  stateDict(): { best: number | null; bestEpoch: number | null } {
    return { best: this.best, bestEpoch: this.bestEpoch };
  }

  loadStateDict(state: unknown): void {
    checkStateKeys('ModelCheckpoint', state, ['best', 'bestEpoch']);
    const s = state as ReturnType<ModelCheckpoint['stateDict']>;
    const problems: string[] = [];
    if (s.best !== null && !Number.isFinite(s.best)) {
      problems.push(stateProblem('best', 'null or a finite number', s.best));
    }
    if (s.bestEpoch !== null && !(Number.isInteger(s.bestEpoch) && s.bestEpoch >= 0)) {
      problems.push(stateProblem('bestEpoch', 'null or an integer >= 0', s.bestEpoch));
    }
    if (problems.length > 0) throw new StateDictError('ModelCheckpoint', problems);
    this.best = s.best;
    this.bestEpoch = s.bestEpoch;
  }
}
