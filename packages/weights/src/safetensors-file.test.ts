import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inspectSafetensorsFile,
  isNumBatchesTracked,
  readSafetensors,
  readSafetensorsFile,
  saveSafetensorsFile,
} from './index';
import { planSafetensors } from './internal/encode';
import { writeAll, writeFileAtomic } from './node/atomic-write';

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

  it('a process SIGKILLed in the middle of saving a big file leaves the previous file loadable', async () => {
    const path = join(dir, 'crash.safetensors');
    const w = tf.tensor1d([1, 2, 3]);
    await saveSafetensorsFile(path, { w }, { version: 'old' });
    w.dispose();
    const before = readFileSync(path);

    // The child runs the real atomic writer (transpiled from src), writes 20 MB of a 40 MB file
    // into the temporary file, reports, and waits to be killed.
    const source = readFileSync(new URL('./node/atomic-write.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(dir, 'atomic-write.mjs'), js);
    writeFileSync(
      join(dir, 'child.mjs'),
      `import { writeFileAtomic, writeAll } from './atomic-write.mjs';
      setInterval(() => {}, 1000);
      await writeFileAtomic(${JSON.stringify(path)}, async (handle) => {
        const piece = new Uint8Array(1 << 20).fill(7);
        for (let i = 0; i < 20; i++) await writeAll(handle, piece);
        process.stdout.write('half written\\n');
        await new Promise(() => {});
      });`,
    );
    const child = spawn(process.execPath, [join(dir, 'child.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('half written')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const temporary = readdirSync(dir).filter(
      (f) => f.startsWith('.crash.safetensors.') && f.endsWith('.tmp'),
    );
    expect(temporary).toHaveLength(1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    expect(readFileSync(path).equals(before)).toBe(true);
    const read = await readSafetensorsFile(path);
    expect(read.metadata).toEqual({ version: 'old' });
    expect(Array.from(read.tensors.w.dataSync())).toEqual([1, 2, 3]);
    read.tensors.w.dispose();
    // What a crash leaves: the partial temporary file, never a partial file under the final name.
    expect(existsSync(join(dir, temporary[0]))).toBe(true);
  });
});
