import { createPruner, type PrunerSpec } from './pruner';
import type { ParamValue } from './search-space';

/** How a trial ended. */
export type TrialState = 'complete' | 'pruned' | 'failed';

/** Whether the objective's value is better small (a loss) or large (an accuracy). */
export type Direction = 'minimize' | 'maximize';

/** A finished trial, as a study stores it (plain JSON). */
export interface TrialRecord {
  /** 0, 1, 2, ... in the order the study asked for trials; also the trial's id in a study. */
  number: number;
  params: Record<string, ParamValue>;
  state: TrialState;
  /** The objective's value (complete), or the last reported value (pruned). */
  value?: number;
  /** Values reported per step (epoch), in order: `[step, value]`. */
  intermediate: [number, number][];
  /** Why a failed trial failed. */
  error?: string;
  /** Who ran it (`host:pid:thread`), and for how long. */
  worker?: string;
  seconds: number;
}

/** What a runner receives for one trial: all it needs to run it and decide on pruning. */
export interface TrialTask {
  study: string;
  number: number;
  params: Record<string, ParamValue>;
  direction: Direction;
  pruner: PrunerSpec;
  /** The finished trials this trial is compared with (params omitted). */
  history: TrialRecord[];
}

/**
 * Thrown by an objective to stop its trial as pruned (the alternative to returning early after
 * `trial.report` returned true).
 */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/**
 * One run of the objective: its `params`, and `report(step, value)` for per-epoch metrics, which
 * returns `true` once the study's pruner decides this trial should stop.
 */
export class Trial<P = Record<string, ParamValue>> {
  readonly study: string;
  readonly number: number;
  readonly params: Readonly<P>;
  /** Reports so far, `[step, value]`. */
  readonly intermediate: [number, number][] = [];
  private prunedFlag = false;
  private readonly task: TrialTask;
  private readonly decide: ReturnType<typeof createPruner>;

  constructor(task: TrialTask) {
    this.task = task;
    this.study = task.study;
    this.number = task.number;
    this.params = Object.freeze({ ...task.params }) as unknown as P;
    this.decide = createPruner(task.pruner);
  }

  /** Whether the pruner stopped this trial. */
  get pruned(): boolean {
    return this.prunedFlag;
  }

  /**
   * Record `value` at `step` (e.g. the epoch, from 1); true when the trial should stop now.
   * Steps must increase; the value must be finite.
   */
  report(step: number, value: number): boolean {
    if (this.prunedFlag) return true;
    if (!Number.isFinite(step)) {
      throw new Error(`trial.report: step must be a finite number, received ${step}`);
    }
    const last = this.intermediate.at(-1);
    if (last && !(step > last[0])) {
      throw new Error(`trial.report: steps must increase, received ${step} after ${last[0]}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(
        `trial.report: value must be a finite number, received ${value} at step ${step}`,
      );
    }
    this.intermediate.push([step, value]);
    this.prunedFlag = this.decide.shouldPrune({
      number: this.number,
      step,
      intermediate: this.intermediate,
      history: this.task.history,
      direction: this.task.direction,
    });
    return this.prunedFlag;
  }
}

/** An objective: the value of one configuration (lower is better unless maximizing). */
export type Objective<P = Record<string, ParamValue>> = (
  trial: Trial<P>,
) => number | Promise<number>;

/**
 * Run one trial: the objective under its pruner. Never throws for the objective's errors: a
 * thrown error or a non-finite value gives a `failed` record with the message.
 */
export async function executeTrial<P>(
  task: TrialTask,
  objective: Objective<P>,
  worker?: string,
): Promise<TrialRecord> {
  const started = performance.now();
  const trial = new Trial<P>(task);
  const base = { number: task.number, params: task.params, worker };
  const done = (rest: Partial<TrialRecord> & { state: TrialRecord['state'] }): TrialRecord => ({
    ...base,
    intermediate: trial.intermediate,
    seconds: (performance.now() - started) / 1000,
    ...rest,
  });
  const lastValue = () => trial.intermediate.at(-1)?.[1];
  try {
    const value = await objective(trial);
    if (trial.pruned) return done({ state: 'pruned', value: lastValue() });
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return done({
        state: 'failed',
        error: `the objective returned ${String(value)}, not a finite number`,
      });
    }
    return done({ state: 'complete', value });
  } catch (error) {
    if (error instanceof TrialPruned || (error as Error)?.name === 'TrialPruned') {
      return done({ state: 'pruned', value: lastValue() });
    }
    return done({ state: 'failed', error: String((error as Error)?.stack ?? error) });
  }
}

/** The best finished trial (complete only), ties to the lower number. */
export function bestTrial(
  records: readonly TrialRecord[],
  direction: Direction,
): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const r of records) {
    if (r.state !== 'complete' || r.value === undefined) continue;
    if (
      !best ||
      isBetter(r.value, best.value!, direction) ||
      (r.value === best.value && r.number < best.number)
    ) {
      best = r;
    }
  }
  return best;
}

/** Whether `a` is strictly better than `b`. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'minimize' ? a < b : a > b;
}
