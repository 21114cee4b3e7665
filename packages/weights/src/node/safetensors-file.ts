// Node only: node:fs is imported at run time inside each function (through @convkit/backend's importFs).
import type { FileHandle } from 'node:fs/promises';
import { importFs, readExactly, writeAll, writeFileAtomic } from '@convkit/backend';
import type * as tf from '@tensorflow/tfjs-core';
import { encodeValues, planSafetensors } from '../internal/encode';
import { parseHeader, prefix, readHeaderLength } from '../internal/header';
import { type DecodedTensor, decodeEntry, selectEntries, toContent } from '../internal/select';
import { type ReadSafetensorsOptions, specsOf, type WriteSafetensorsOptions } from '../safetensors';
import {
  SAFETENSORS_DTYPES,
  type SafetensorsContent,
  type SafetensorsHeader,
} from '../safetensors-format';

type Handle = FileHandle;

async function openHeader(path: string): Promise<{ handle: Handle; header: SafetensorsHeader }> {
  const fs = await importFs();
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const describe = () => prefix(path);
    if (size < 8) {
      throw new Error(
        `${prefix(path)}: truncated: expected at least 8 bytes (the header length), the file has ${size}`,
      );
    }
    const n = readHeaderLength(await readExactly(handle, 0, 8, describe), size, path);
    const header = parseHeader(await readExactly(handle, 8, n, describe), size - 8 - n, path);
    return { handle, header };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Read and validate only the header of a safetensors file (names, dtypes, shapes, metadata). */
export async function inspectSafetensorsFile(path: string): Promise<SafetensorsHeader> {
  const { handle, header } = await openHeader(path);
  await handle.close();
  return header;
}

/**
 * Read a safetensors file in Node, streaming: the 8-byte length, then the header, then each
 * selected tensor's byte range through a file handle. The whole file is never loaded; memory
 * is the header plus the selected tensors. Node only (imports node:fs dynamically).
 */
export async function readSafetensorsFile(
  path: string,
  options: Omit<ReadSafetensorsOptions, 'file'> = {},
): Promise<SafetensorsContent> {
  const { handle, header } = await openHeader(path);
  try {
    const decoded: DecodedTensor[] = [];
    for (const entry of selectEntries(header, options.select, path)) {
      const length = entry.end - entry.begin;
      const position = header.dataStart + entry.begin;
      const describe = () => `${prefix(path)}: tensor ${JSON.stringify(entry.name)}`;
      if ((entry.dtype === 'F32' || entry.dtype === 'I32') && LITTLE_ENDIAN) {
        // Read straight into the result's memory: one allocation per tensor.
        const count = length / SAFETENSORS_DTYPES[entry.dtype];
        const values = entry.dtype === 'F32' ? new Float32Array(count) : new Int32Array(count);
        await readExactly(handle, position, length, describe, new Uint8Array(values.buffer));
        decoded.push({ entry, values });
      } else {
        decoded.push(
          decodeEntry(entry, await readExactly(handle, position, length, describe), path),
        );
      }
    }
    return toContent(decoded, header.metadata);
  } finally {
    await handle.close();
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Save tensors as a safetensors file, atomically (temporary file in the same directory, fsync,
 * rename, fsync of the directory): a crash never leaves a truncated file under `path`. Tensors
 * are read back (`await data()`) and written one at a time. Node only.
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const plan = planSafetensors(specsOf(tensors, options), metadata);
  await writeFileAtomic(path, async (handle) => {
    await writeAll(handle, plan.head);
    for (const entry of plan.order) {
      const values = (await tensors[entry.name].data()) as Float32Array | Int32Array | Uint8Array;
      await writeAll(handle, encodeValues(values, entry.dtype, entry.name));
    }
  });
}
