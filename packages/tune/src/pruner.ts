import { type AshaOptions, AshaPruner } from './asha-pruner';
import { type HyperbandOptions, HyperbandPruner } from './hyperband-pruner';
import { type MedianOptions, MedianPruner } from './median-pruner';
import type { Direction, TrialRecord } from './trial';

/** What a pruner sees when a trial reports a value. */
export interface PrunerContext {
  /** The reporting trial's number. */
  number: number;
  /** The step just reported, and all of this trial's reports so far (the last one is `step`). */
  step: number;
  intermediate: readonly (readonly [number, number])[];
  /** Finished trials visible to this one (the same wherever the trial runs). */
  history: readonly TrialRecord[];
  direction: Direction;
}

/** Decides, from per-step reports, whether a trial should stop early. */
export interface Pruner {
  shouldPrune(context: PrunerContext): boolean;
}

/**
 * A pruner as plain JSON, so it travels with each trial to threads and worker processes (the
 * decision is made where the trial runs, from the history shipped with it).
 */
export type PrunerSpec =
  | { type: 'none' }
  | ({ type: 'median' } & MedianOptions)
  | ({ type: 'asha' } & AshaOptions)
  | ({ type: 'hyperband' } & HyperbandOptions);

/** The pruner for `spec` (throws naming the bad field). */
export function createPruner(spec: PrunerSpec | undefined): Pruner {
  const type = spec?.type ?? 'none';
  switch (type) {
    case 'none':
      return { shouldPrune: () => false };
    case 'median':
      return new MedianPruner(spec as MedianOptions);
    case 'asha':
      return new AshaPruner(spec as AshaOptions);
    case 'hyperband':
      return new HyperbandPruner(spec as HyperbandOptions);
    default:
      throw new Error(
        `pruner.type must be 'none', 'median', 'asha' or 'hyperband', received ${JSON.stringify(type)}`,
      );
  }
}

/** The value a trial reported at the first step >= `step`, or undefined. */
export function valueAtOrAfter(
  intermediate: readonly (readonly [number, number])[],
  step: number,
): number | undefined {
  for (const [s, v] of intermediate) if (s >= step) return v;
  return undefined;
}

/** Throw unless `value` is an integer >= `min` (or a number >= min when `integer` is false). */
export function checkOption(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  integer = true,
): void {
  if (typeof value !== 'number' || !(value >= min) || (integer && !Number.isInteger(value))) {
    throw new Error(
      `${owner}: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, received ${JSON.stringify(value)}`,
    );
  }
}
