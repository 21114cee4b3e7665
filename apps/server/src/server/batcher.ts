/** The queue is full: the caller should answer 503 with `Retry-After`. */
export class QueueFullError extends Error {
  readonly statusCode = 503;
  constructor(
    readonly queued: number,
    readonly limit: number,
  ) {
    super(`the inference queue is full (${queued} of ${limit} images queued); retry later`);
    this.name = 'QueueFullError';
  }
}

/** A request waited longer than its timeout. */
export class RequestTimeoutError extends Error {
  readonly statusCode = 503;
  constructor(readonly timeoutMs: number) {
    super(`the request timed out after ${timeoutMs} ms waiting for inference`);
    this.name = 'RequestTimeoutError';
  }
}

export interface MicroBatcherOptions<I, O> {
  /** Runs one batch; returns one output per input, in order. */
  run(inputs: I[]): Promise<O[]>;
  /** Largest batch. */
  maxBatch: number;
  /** Longest the first queued item waits for the batch to fill, in ms. */
  maxWaitMs: number;
  /** Most items waiting (not yet running); more are refused with `QueueFullError`. */
  maxQueue: number;
  /** Called after each batch with its size and duration (metrics). */
  onBatch?(size: number, seconds: number): void;
}

interface Item<I, O> {
  input: I;
  deadline: number;
  resolve(output: O): void;
  reject(error: Error): void;
}

/**
 * Micro-batching: concurrent requests' items are queued and run together, one batch at a time,
 * as soon as `maxBatch` items wait or the oldest has waited `maxWaitMs`. The queue is bounded
 * (a request whose items do not all fit is refused whole, before anything is queued), and an
 * item whose request deadline passed before its batch started is dropped with
 * `RequestTimeoutError` instead of being computed.
 */
export class MicroBatcher<I, O> {
  private queue: Item<I, O>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: MicroBatcherOptions<I, O>) {}

  /** Items waiting to run. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queue `inputs` (one request) and resolve with their outputs, in order. */
  submit(inputs: I[], timeoutMs: number): Promise<O[]> {
    if (this.queue.length + inputs.length > this.options.maxQueue) {
      return Promise.reject(new QueueFullError(this.queue.length, this.options.maxQueue));
    }
    const deadline = performance.now() + timeoutMs;
    const outputs = inputs.map(
      (input) =>
        new Promise<O>((resolve, reject) => {
          this.queue.push({ input, deadline, resolve, reject });
        }),
    );
    this.schedule();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(timeoutMs)), timeoutMs);
    });
    const all = Promise.all(outputs);
    // A timed-out request's items still settle later; keep those rejections handled.
    all.catch(() => {});
    return Promise.race([all, timeout]).finally(() => clearTimeout(timer));
  }

  /** Resolves once nothing is queued or running (for draining on shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.options.maxBatch || this.options.maxWaitMs === 0) {
      this.clearTimer();
      void this.runBatch();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.runBatch();
      }, this.options.maxWaitMs);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async runBatch(): Promise<void> {
    if (this.running) return;
    const now = performance.now();
    const taken = this.queue.splice(0, this.options.maxBatch);
    const batch: Item<I, O>[] = [];
    for (const item of taken) {
      if (item.deadline < now) item.reject(new RequestTimeoutError(0));
      else batch.push(item);
    }
    if (batch.length > 0) {
      this.running = true;
      const started = performance.now();
      try {
        const outputs = await this.options.run(batch.map((b) => b.input));
        for (const [i, b] of batch.entries()) b.resolve(outputs[i]);
      } catch (error) {
        for (const b of batch) b.reject(error as Error);
      } finally {
        this.running = false;
        this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
      }
    }
    if (this.queue.length > 0) this.schedule();
    else if (!this.running) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
