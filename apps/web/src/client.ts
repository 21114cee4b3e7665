/** The page's side of protocol.ts: typed requests to the compute worker and its events. */
import type { Requests, RequestType, WorkerEvent, WorkerReply } from './protocol';

export class WorkerClient {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(event: WorkerEvent) => void>();

  /** Called after every reply with the worker's live tensor count (tf.memory().numTensors). */
  onTensors?: (count: number) => void;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (message: MessageEvent<WorkerReply | WorkerEvent>) => {
      const data = message.data;
      if ('event' in data) {
        for (const listener of this.listeners) listener(data);
        return;
      }
      const waiting = this.pending.get(data.id);
      if (!waiting) return;
      this.pending.delete(data.id);
      this.onTensors?.(data.numTensors);
      if (data.ok) waiting.resolve(data.result);
      else waiting.reject(new Error(data.error));
    };
    this.worker.onerror = (event) => {
      const error = new Error(`the compute worker failed: ${event.message}`);
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
  }

  request<K extends RequestType>(
    type: K,
    req: Requests[K]['req'],
    transfer: Transferable[] = [],
  ): Promise<Requests[K]['res']> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, type, ...req }, transfer);
    });
  }

  on(listener: (event: WorkerEvent) => void): void {
    this.listeners.add(listener);
  }
}
