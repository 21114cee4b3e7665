import * as tf from '@tensorflow/tfjs-core';
import type { Batch, DataSource } from '../types';

/** Throw, naming `where`, unless `data` can be iterated (sync or async). */
export function checkDataSource(where: string, name: string, data: unknown): void {
  const ok =
    data != null &&
    (typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function');
  if (!ok) {
    throw new Error(
      `${where}: expected ${name} to be an iterable or async iterable of { x, y } batches (an array, a DataLoader), received ${data === null ? 'null' : typeof data}`,
    );
  }
}

/** `{ x, y }` from a batch (`{ x, y }` or `[x, y]`), with an error naming `where` otherwise. */
export function batchOf(where: string, value: unknown, index: number): Batch {
  const pair = Array.isArray(value) ? { x: value[0], y: value[1] } : (value as Partial<Batch>);
  if (!(pair?.x instanceof tf.Tensor) || !(pair?.y instanceof tf.Tensor)) {
    throw new Error(
      `${where}: batch ${index} is not { x: tf.Tensor, y: tf.Tensor } (received ${describe(value)})`,
    );
  }
  if (pair.x.shape[0] !== pair.y.shape[0]) {
    throw new Error(
      `${where}: batch ${index} has ${pair.x.shape[0]} inputs (x [${pair.x.shape}]) but ${pair.y.shape[0]} targets (y [${pair.y.shape}])`,
    );
  }
  return pair as Batch;
}

/** Batches per epoch, when the data source says. */
export function batchCount(data: DataSource<unknown>): number | undefined {
  const n = data.numBatches ?? data.length;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Whether `fit` owns (and disposes) the batches: not when they come from an array, which is
 * iterated again every epoch. */
export function ownsBatches(data: unknown, explicit: boolean | undefined): boolean {
  return explicit ?? !Array.isArray(data);
}

/** Dispose the tensors of a batch the loop owns (never twice, never a tensor still needed). */
export function disposeBatch(value: unknown): void {
  const tensors: tf.Tensor[] = [];
  const visit = (v: unknown) => {
    if (v instanceof tf.Tensor) tensors.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
      Object.values(v).forEach(visit);
  };
  visit(value);
  for (const t of tensors) if (!t.isDisposed) t.dispose();
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (v instanceof tf.Tensor) return `a tensor [${v.shape}]`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return typeof v;
}
