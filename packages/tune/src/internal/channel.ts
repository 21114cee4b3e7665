/** An unbounded async queue: `push` never waits, `take` waits for the next item. */
export class Channel<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private error: unknown;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  take(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Fail every pending and future `take`. */
  fail(error: unknown): void {
    this.error = error;
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
