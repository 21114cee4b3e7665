/**
 * Yield to the event loop (a macrotask), so that a browser UI repaints and handles input, and
 * Node serves I/O, between training batches.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === 'function')
    return new Promise((resolve) => g.setImmediate!(resolve));
  return new Promise((resolve) => setTimeout(resolve, 0));
}
