import type { Callback } from '../callback';

/** A hook of `Callback` (its methods other than the state protocol). */
export type CallbackHook = Exclude<
  keyof Callback,
  'callbackName' | 'order' | 'stateDict' | 'loadStateDict'
>;

type HookArgs<K extends CallbackHook> = Parameters<
  Extract<NonNullable<Callback[K]>, (...a: never[]) => unknown>
>;

/**
 * Calls the callbacks of one `fit` run. At every hook they run one after another, each awaited,
 * lower `order` first and, within one order, as given (a sort by `order` only, so that checkpoints,
 * ordered last, save what every other callback left). Each callback gets a name, its class name
 * (or `callbackName`) with a number after repeats, under which checkpoints keep its state.
 */
export class CallbackDispatcher {
  readonly callbacks: readonly Callback[];
  readonly byName: ReadonlyMap<string, Callback>;

  constructor(callbacks: readonly Callback[]) {
    this.callbacks = callbacks
      .map((c, i) => [c, i] as const)
      .sort((a, b) => (a[0].order ?? 0) - (b[0].order ?? 0) || a[1] - b[1])
      .map(([c]) => c);
    this.byName = nameCallbacks(this.callbacks);
  }

  /** Await `hook` on every callback that has it, in order. */
  async call<K extends CallbackHook>(hook: K, ...args: HookArgs<K>): Promise<void> {
    for (const c of this.callbacks) {
      const fn = c[hook] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof fn === 'function') await fn.apply(c, args);
    }
  }
}

function nameCallbacks(callbacks: readonly Callback[]): Map<string, Callback> {
  const byName = new Map<string, Callback>();
  for (const c of callbacks) {
    const base = c.callbackName ?? c.constructor?.name ?? 'Callback';
    let name = base;
    for (let i = 2; byName.has(name); i++) name = `${base}${i}`;
    byName.set(name, c);
  }
  return byName;
}
