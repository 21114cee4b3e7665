// The built CLI, as a user runs it: `pnpm --filter @convkit/server... build` first (the root
// `npm test` builds before testing). Shared by the tests that run `convkit` as a process.
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** Node's flags that make the CLI run as if onnxruntime-node were not installed. */
export const WITHOUT_ONNXRUNTIME = [
  '--import',
  fileURLToPath(new URL('./without-onnxruntime.mjs', import.meta.url)),
];

/** Run `convkit ...args`; its exit code, stdout and stderr (never throws on a non-zero exit). */
export function convkit(...args: string[]) {
  return convkitWith([], ...args);
}

/** `convkit ...args` with Node flags before the script (`WITHOUT_ONNXRUNTIME`). */
export async function convkitWith(nodeFlags: string[], ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeFlags, CLI, ...args], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Fail with the command to run when the CLI has not been built. */
export function expectBuiltCli(): void {
  expect(existsSync(CLI), `${CLI} is missing: run pnpm --filter @convkit/server... build`).toBe(
    true,
  );
}

/** The URL a `convkit serve` child prints once it listens; rejects with its stderr if it exits first. */
export function serveUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (match) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited early: ${err}`)));
  });
}
