import * as tf from '@tensorflow/tfjs-core';

/**
 * A scope for async code. `tf.tidy` cannot span an `await` (another task's tensors would be
 * swept into it), so this scope only owns what is handed to it with `track`: concurrent code
 * is never touched. Everything tracked is disposed when the scope closes, except what was
 * passed to `keep` (or returned from `withTensorScope`).
 */
export class TensorScope {
  private tracked = new Set<tf.TensorContainer>();
  private closed = false;

  /** Own `value` (a tensor, or an array / object of tensors); returns it unchanged. */
  track<T extends tf.TensorContainer>(value: T): T {
    if (this.closed) throw new Error('TensorScope.track: the scope is already closed');
    this.tracked.add(value);
    return value;
  }

  /** Release `value` from the scope so that it outlives it. */
  keep<T extends tf.TensorContainer>(value: T): T {
    const keepIds = new Set(tensorsIn(value).map((t) => t.id));
    for (const container of [...this.tracked]) {
      const remaining = tensorsIn(container).filter((t) => !keepIds.has(t.id));
      this.tracked.delete(container);
      if (remaining.length > 0) this.tracked.add(remaining);
    }
    return value;
  }

  /** Dispose everything still tracked. Safe to call twice. */
  close(): void {
    this.closed = true;
    for (const container of this.tracked) {
      for (const t of tensorsIn(container)) if (!t.isDisposed) t.dispose();
    }
    this.tracked.clear();
  }
}

/**
 * Run async `fn` with a fresh `TensorScope`; tracked tensors are disposed when it settles
 * (also when it throws). Tensors inside the returned value are kept.
 */
export async function withTensorScope<T>(fn: (scope: TensorScope) => Promise<T>): Promise<T> {
  const scope = new TensorScope();
  try {
    const result = await fn(scope);
    scope.keep(result as tf.TensorContainer);
    return result;
  } finally {
    scope.close();
  }
}

/** What `measureLeaks` found: tensors and bytes alive after `fn` that were not before. */
export interface LeakReport<T> {
  result: T;
  tensorsBefore: number;
  tensorsAfter: number;
  leakedTensors: number;
  leakedBytes: number;
}

/**
 * Run `fn` (sync or async) and report how many tensors it left alive. Tensors inside the
 * returned value are not counted as leaks, since the caller now owns them.
 */
export async function measureLeaks<T>(fn: () => T | Promise<T>): Promise<LeakReport<T>> {
  const before = tf.memory();
  const result = await fn();
  const after = tf.memory();
  const returned = tensorsIn(result as tf.TensorContainer).filter((t) => !t.isDisposed);
  const returnedBytes = returned.reduce((sum, t) => sum + t.size * bytesPerElement(t.dtype), 0);
  return {
    result,
    tensorsBefore: before.numTensors,
    tensorsAfter: after.numTensors,
    leakedTensors: after.numTensors - before.numTensors - returned.length,
    leakedBytes: after.numBytes - before.numBytes - returnedBytes,
  };
}

/** Run `fn` and throw, naming `label` and the count, if it leaves tensors alive. */
export async function assertNoLeaks<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  const report = await measureLeaks(fn);
  if (report.leakedTensors !== 0) {
    throw new Error(
      `${label}: leaked ${report.leakedTensors} tensor(s), ${report.leakedBytes} bytes ` +
        `(tf.memory().numTensors went from ${report.tensorsBefore} to ${report.tensorsAfter})`,
    );
  }
  return report.result;
}

function tensorsIn(value: unknown): tf.Tensor[] {
  const found: tf.Tensor[] = [];
  const visit = (v: unknown, depth: number) => {
    if (v == null || depth > 8) return;
    if (v instanceof tf.Tensor) {
      found.push(v);
    } else if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
    } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      for (const item of Object.values(v)) visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return found;
}

function bytesPerElement(dtype: tf.DataType): number {
  return dtype === 'complex64' ? 8 : dtype === 'string' ? 0 : 4;
}
