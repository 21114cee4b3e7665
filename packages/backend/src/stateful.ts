/**
 * The one state protocol of convkit. Modules, optimizers, LR schedules, callbacks, data loaders
 * and random sources implement it with these two names, so that a run is saved by collecting
 * every `stateDict()` and resumed by handing each back to a fresh object's `loadStateDict`.
 *
 * `stateDict()` returns a snapshot the object never mutates afterwards (plain JSON data, or
 * tensors for modules and optimizers); `loadStateDict(state)` restores it exactly, or throws a
 * `StateDictError` naming every missing, unknown or ill-typed key and changes nothing.
 */
export interface Stateful<State = unknown> {
  stateDict(): State;
  loadStateDict(state: State): unknown;
}

/** A state refused by `loadStateDict`: `problems` lists each key's problem, one per line. */
export class StateDictError extends Error {
  override readonly name = 'StateDictError';

  constructor(
    /** Who refused it (`DataLoader`, `RandomSource`, a module's label). */
    readonly owner: string,
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? `${owner}.loadStateDict: ${problems[0]}`
        : `${owner}.loadStateDict: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
    );
  }
}

/** The problem line for one key: `epoch: expected an integer >= 0, received -1`. */
export function stateProblem(key: string, expected: string, received: unknown): string {
  return `${key}: expected ${expected}, received ${describe(received)}`;
}

/**
 * Throw a `StateDictError` unless `state` is an object with exactly `keys`, naming each missing
 * and each unknown key (a misspelt or foreign state is refused rather than half loaded).
 */
export function checkStateKeys(
  owner: string,
  state: unknown,
  keys: readonly string[],
): asserts state is Record<string, unknown> {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new StateDictError(owner, [stateProblem('state', `{ ${keys.join(', ')} }`, state)]);
  }
  const given = Object.keys(state);
  const problems = [
    ...keys.filter((k) => !given.includes(k)).map((k) => `missing key ${k}`),
    ...given.filter((k) => !keys.includes(k)).map((k) => `unexpected key ${k}`),
  ];
  if (problems.length > 0) throw new StateDictError(owner, problems);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || typeof value === 'function') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
