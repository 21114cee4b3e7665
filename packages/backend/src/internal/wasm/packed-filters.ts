import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import type { Info } from './kernel-scope';
import { heapOffset } from './simd-kernels';

/** A filter's packed copy, at its 32-byte aligned heap address; `layout` names the packing. */
interface Packed {
  buffer: Info;
  address: number;
  layout: string;
}

/** Packed filters by backend, then by the filter's buffer; each freed with its filter. */
const packedFilters = new WeakMap<BackendWasm, Map<tf.DataId, Packed>>();

/**
 * The heap address of `filter` packed as `layout` names, by `pack` (given the 32-byte aligned
 * address of `floats` floats) the first time. Packed once per filter buffer and kept until the
 * filter is disposed (tfjs tensors are immutable: a buffer's data never changes), so a model's
 * weights are packed on its first forward pass, as XNNPACK caches its packed weights.
 */
export function cachedPacking(
  backend: BackendWasm,
  filter: Info,
  layout: string,
  floats: number,
  pack: (address: number) => void,
): number {
  const cache = filterCache(backend);
  const cached = cache.get(filter.dataId);
  if (cached?.layout === layout) return cached.address;
  if (cached) freePacked(backend, cache, filter.dataId);
  const buffer = backend.makeOutput([floats + 8], 'float32') as Info;
  const address = (heapOffset(backend, buffer.dataId) + 31) & ~31;
  pack(address);
  cache.set(filter.dataId, { buffer, address, layout });
  return address;
}

/**
 * The backend's cache of packed filters, created on first use together with a hook on its
 * `disposeData` (which the engine calls when a tensor's last reference goes) that frees a
 * filter's packed copy when the filter's buffer is freed.
 */
function filterCache(backend: BackendWasm): Map<tf.DataId, Packed> {
  const cache = packedFilters.get(backend);
  if (cache) return cache;
  const entries = new Map<tf.DataId, Packed>();
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: tf.DataId, force?: boolean) => {
    const done = dispose(dataId, force);
    if (entries.has(dataId) && !backend.dataIdMap.has(dataId)) freePacked(backend, entries, dataId);
    return done;
  };
  packedFilters.set(backend, entries);
  return entries;
}

/** Filters `backend` holds packed (for tests: each is freed with its filter). */
export function packedFilterCount(backend: BackendWasm): number {
  return packedFilters.get(backend)?.size ?? 0;
}

function freePacked(backend: BackendWasm, cache: Map<tf.DataId, Packed>, dataId: tf.DataId): void {
  const packed = cache.get(dataId);
  cache.delete(dataId);
  if (packed) backend.disposeData(packed.buffer.dataId, true);
}
