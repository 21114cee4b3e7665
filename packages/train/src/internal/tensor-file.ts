import { isNumBatchesTracked, readSafetensors, writeSafetensors } from '@convkit/weights';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * The checkpoint's tensor files are safetensors, written and read by `@convkit/weights`
 * (`num_batches_tracked` stored as I64, as PyTorch does). Kept behind these two functions so the
 * checkpoint code does not depend on the format's details.
 */
export async function encodeTensorFile(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  // Read every tensor back asynchronously first, so writeSafetensors' dataSync finds the values
  // on the CPU (no blocking GPU read-back).
  await Promise.all(Object.values(tensors).map((t) => t.data()));
  return writeSafetensors(tensors, metadata, { int64: isNumBatchesTracked });
}

/** Decode a safetensors file into new tensors (caller disposes); errors name `label`. */
export function decodeTensorFile(
  bytes: Uint8Array,
  label: string,
): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(bytes, { file: label });
  return { tensors, metadata };
}
