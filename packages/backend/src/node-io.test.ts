import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOptional, isMissingPackage, writeAll, writeFileAtomic } from './index';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-node-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file with bytes, a string or a writer function', async () => {
    const path = join(dir, 'a.txt');
    await writeFileAtomic(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    await writeFileAtomic(path, new TextEncoder().encode('two'));
    expect(readFileSync(path, 'utf8')).toBe('two');
    await writeFileAtomic(path, (handle) => writeAll(handle, new TextEncoder().encode('three')));
    expect(readFileSync(path, 'utf8')).toBe('three');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a writer that throws leaves the previous file and no temporary file', async () => {
    const path = join(dir, 'b.txt');
    await writeFileAtomic(path, 'kept');
    await expect(
      writeFileAtomic(path, async (handle) => {
        await handle.write('partial');
        throw new Error('disk full (simulated)');
      }),
    ).rejects.toThrow('disk full (simulated)');
    expect(readFileSync(path, 'utf8')).toBe('kept');
    expect(readdirSync(dir).filter((f) => f.startsWith('.b.txt.'))).toEqual([]);
  });

  it('a process SIGKILLed in the middle of a big write leaves the previous file whole', async () => {
    const path = join(dir, 'crash.bin');
    writeFileSync(path, 'previous content');
    // The child runs the real writer (this file's module, transpiled alone: it has no runtime
    // imports), writes 20 MB into the temporary file, reports, and waits to be killed.
    const source = readFileSync(new URL('./node-io.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(dir, 'node-io.mjs'), js);
    writeFileSync(
      join(dir, 'child.mjs'),
      `import { writeFileAtomic, writeAll } from './node-io.mjs';
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
      (f) => f.startsWith('.crash.bin.') && f.endsWith('.tmp'),
    );
    expect(temporary).toHaveLength(1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(readFileSync(path, 'utf8')).toBe('previous content');
    // What a crash leaves: the partial temporary file, never a partial file under the final name.
    expect(existsSync(join(dir, temporary[0]))).toBe(true);
  });
});

it('importOptional reports a missing package in a way isMissingPackage recognizes', async () => {
  const error = await importOptional('convkit-no-such-package').catch((e) => e);
  expect(isMissingPackage(error, 'convkit-no-such-package')).toBe(true);
  expect(isMissingPackage(new Error('syntax error in x'), 'convkit-no-such-package')).toBe(false);
  const path = await importOptional<typeof import('node:path')>('node:path');
  expect(path.join('a', 'b')).toBe(join('a', 'b'));
});
