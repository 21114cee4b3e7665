import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeAll, writeFileAtomic } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inspectSafetensorsFile,
  isNumBatchesTracked,
  readSafetensors,
  readSafetensorsFile,
  saveSafetensorsFile,
} from './index';
import { planSafetensors } from './internal/encode';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'convkit-weights-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BIG = 12_500_000; // float32 elements: 50 MB

/** Write a ~50 MB file in 1 MB pieces (the test never holds it in memory): big[i] = i % 1000. */
async function writeBigFile(path: string): Promise<void> {
  const plan = planSafetensors(
    [
      { name: 'big', dtype: 'F32', shape: [BIG] },
      { name: 'small', dtype: 'F32', shape: [4, 4] },
    ],
    { format: 'pt' },
  );
  const handle = await open(path, 'w');
  await writeAll(handle, plan.head);
  const piece = new Float32Array(250_000); // 1 MB, a multiple of 1000 elements
  for (let i = 0; i < piece.length; i++) piece[i] = i % 1000;
  for (let written = 0; written < BIG; written += piece.length)
    await writeAll(handle, new Uint8Array(piece.buffer));
  await writeAll(
    handle,
    new Uint8Array(Float32Array.from({ length: 16 }, (_, i) => i * 0.5).buffer),
  );
  await handle.close();
}

describe('readSafetensorsFile (streaming)', () => {
  it('reads one small tensor of a 50 MB file with memory far below the file size', async () => {
    const path = join(dir, 'big.safetensors');
    await writeBigFile(path);
    const header = await inspectSafetensorsFile(path);
    expect(header.entries.map((e) => e.name)).toEqual(['big', 'small']);
    expect(header.dataStart + header.dataLength).toBe(50_000_064 + header.dataStart);
    gc();
    const before = process.memoryUsage();
    const content = await readSafetensorsFile(path, { select: ['small'] });
    const after = process.memoryUsage();
    expect(Array.from(content.tensors.small.dataSync())).toEqual(
      Array.from({ length: 16 }, (_, i) => i * 0.5),
    );
    expect(content.metadata).toEqual({ format: 'pt' });
    content.tensors.small.dispose();
    const arrayBuffers = after.arrayBuffers - before.arrayBuffers;
    const rss = after.rss - before.rss;
    console.log(
      `select 1 of 50 MB: arrayBuffers +${(arrayBuffers / 1e6).toFixed(2)} MB, rss +${(rss / 1e6).toFixed(2)} MB`,
    );
    expect(arrayBuffers).toBeLessThan(2_000_000);
    expect(rss).toBeLessThan(20_000_000);

    // The whole big tensor reads correctly too, straight into its Float32Array.
    const all = await readSafetensorsFile(path, { select: ['big'] });
    const values = all.tensors.big.dataSync();
    expect([values[0], values[999], values[1000], values[BIG - 1]]).toEqual([
      0,
      999,
      0,
      (BIG - 1) % 1000,
    ]);
    all.tensors.big.dispose();
    rmSync(path);
  });

  it('names the file in errors, and checks the header length against the file size', async () => {
    const path = join(dir, 'lying.safetensors');
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    writeFileSync(path, bytes);
    await expect(readSafetensorsFile(path)).rejects.toThrow(
      `safetensors ${path}: header length 1000 runs past the end of the file (64 bytes`,
    );
    writeFileSync(path, bytes.subarray(0, 3));
    await expect(readSafetensorsFile(path)).rejects.toThrow(
      /truncated: expected at least 8 bytes .* the file has 3/,
    );
  });
});

describe('saveSafetensorsFile (atomic)', () => {
  it('saves, overwrites and leaves no temporary files', async () => {
    const path = join(dir, 'model.safetensors');
    const first = {
      w: tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      'bn.num_batches_tracked': tf.scalar(7, 'int32'),
    };
    await saveSafetensorsFile(path, first, { epoch: '1' }, { int64: isNumBatchesTracked });
    const read = await readSafetensorsFile(path);
    expect(read.dtypes['bn.num_batches_tracked']).toBe('I64');
    expect(Array.from(read.tensors.w.dataSync())).toEqual([1, 2, 3, 4]);
    // Same bytes as the in-memory writer.
    expect(readSafetensors(readFileSync(path)).metadata).toEqual({ epoch: '1' });
    const second = { w: tf.tensor1d([9]) };
    await saveSafetensorsFile(path, second);
    expect(Array.from((await readSafetensorsFile(path)).tensors.w.dataSync())).toEqual([9]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const t of [
      ...Object.values(first),
      ...Object.values(second),
      ...Object.values(read.tensors),
    ])
      t.dispose();
  });

  it('keeps the previous file when the write fails midway, and removes the temporary file', async () => {
    const path = join(dir, 'keep.safetensors');
    const w = tf.tensor1d([1, 2, 3]);
    await saveSafetensorsFile(path, { w });
    const before = readFileSync(path);
    await expect(
      writeFileAtomic(path, async (handle) => {
        await writeAll(handle, new Uint8Array(1000));
        throw new Error('disk full (simulated)');
      }),
    ).rejects.toThrow('disk full (simulated)');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    w.dispose();
  });
});
