import { checkKnownKeys, checkRules, checkStateKeys, fail, type Rule } from '../internal/validate';

/** The part of a parameter group that schedules read and write. */
export interface SchedulableGroup {
  lr: number;
  initialLr?: number;
  momentum?: number;
  betas?: [number, number];
}

/** What a schedule needs of an optimizer: its groups and defaults (any convkit Optimizer). */
export interface SchedulableOptimizer {
  readonly name: string;
  readonly defaults: object;
  readonly paramGroups: SchedulableGroup[];
}

/** JSON-serializable schedule state. */
export interface SchedulerStateDict {
  type: string;
  lastEpoch: number;
  stepCount: number;
  baseLrs: number[];
  lastLr: number[];
  [extra: string]: unknown;
}

/**
 * Base of the epoch-indexed schedules (PyTorch's `_LRScheduler`). Constructing one records each
 * group's `initialLr` (once: the first schedule on an optimizer sets it) and takes the initial
 * step, so `getLastLr()` is the epoch-0 learning rate. Call `step()` once per epoch, after the
 * optimizer's steps. Chainable schedules multiply the group's current lr, so other writers (a
 * `ReduceLROnPlateau`, a manual `setLr`) compose with them.
 */
export abstract class LRScheduler {
  readonly optimizer: SchedulableOptimizer;
  readonly name: string;
  baseLrs: number[];
  lastEpoch = -1;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  protected constructor(name: string, optimizer: SchedulableOptimizer) {
    this.name = name;
    if (optimizer == null || !Array.isArray(optimizer.paramGroups)) {
      fail(name, 'optimizer', 'a convkit optimizer', optimizer);
    }
    this.optimizer = optimizer;
    for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The learning rates for `lastEpoch` (called after it was advanced). */
  protected abstract computeLr(): number[];

  /** Closed-form learning rates at `lastEpoch` (PyTorch's `_get_closed_form_lr`). */
  protected closedFormLr(): number[] {
    return this.computeLr();
  }

  /** Extra state for `stateDict` (subclass fields that change while stepping). */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /** Advance one epoch and write the new learning rates into the optimizer's groups. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.computeLr());
  }

  /**
   * Jump to `epoch` with the closed form (PyTorch's deprecated `step(epoch)`); SequentialLR uses
   * it with epoch 0 at each milestone.
   */
  stepToEpoch(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr());
  }

  /** The learning rate of every group after the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** @internal PyTorch's `_initial_step`: reset the step count and take the epoch-0 step. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  stateDict(): SchedulerStateDict {
    return {
      type: this.name,
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: [...this.baseLrs],
      lastLr: [...this.lastLr],
      ...structuredClone(this.extraState()),
    };
  }

  /** Restore `stateDict()` output (the optimizer's own state is restored separately). */
  loadStateDict(dict: SchedulerStateDict): void {
    // The keys this schedule saves (its extra state included) are the keys it accepts.
    checkStateKeys(this.name, dict, Object.keys(this.stateDict()));
    if (dict.type !== this.name)
      fail(this.name, 'loadStateDict(dict).type', `"${this.name}"`, dict.type);
    this.lastEpoch = dict.lastEpoch;
    this.stepCount = dict.stepCount;
    this.baseLrs = [...dict.baseLrs];
    this.lastLr = [...dict.lastLr];
    this.loadExtraState(dict);
  }

  protected loadExtraState(_dict: SchedulerStateDict): void {}

  protected get groups(): SchedulableGroup[] {
    return this.optimizer.paramGroups;
  }

  private apply(lrs: number[]): void {
    this.groups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }
}

/** Check a schedule's options: known keys and rules on the given values. */
export function checkScheduleOptions(
  owner: string,
  options: object | undefined,
  rules: Record<string, Rule>,
  required: string[] = [],
): void {
  for (const key of required) {
    if ((options as Record<string, unknown> | undefined)?.[key] === undefined)
      fail(owner, key, 'given', undefined);
  }
  const given = Object.fromEntries(
    Object.entries(options ?? {}).filter(([, v]) => v !== undefined),
  );
  checkKnownKeys(owner, given, Object.keys(rules));
  checkRules(owner, given, Object.fromEntries(Object.keys(given).map((k) => [k, rules[k]])));
}
