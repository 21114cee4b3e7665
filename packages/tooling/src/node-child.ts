// Helpers for tests that run code in a separate Node process (worker threads, worker processes,
// a process killed mid-write): plain Node cannot load the .ts sources, so the entry is bundled
// first, and the test waits for the child to say it is ready.
import { type ChildProcess, spawn } from 'node:child_process';
import { build } from 'esbuild';

/** Bundle a TypeScript entry from the sources into one ESM file that plain Node runs. */
export async function bundleForNode(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'silent',
    // CommonJS dependencies inside an ESM bundle still call `require` and read `__dirname`
    // (tfjs-backend-wasm's Emscripten glue does).
    banner: {
      js: [
        "import { createRequire as __cr } from 'node:module';",
        "import { fileURLToPath as __fu } from 'node:url';",
        "import { dirname as __dn } from 'node:path';",
        'const require = __cr(import.meta.url);',
        'const __filename = __fu(import.meta.url);',
        'const __dirname = __dn(__filename);',
      ].join(' '),
    },
  });
  return outfile;
}

/**
 * Run `node script ...args`; resolve once its stdout matches `ready`, with the process and its
 * stdout so far; reject with its stderr if it exits first.
 */
export function spawnUntil(
  script: string,
  args: string[],
  ready: RegExp,
): Promise<{ proc: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      if (ready.test(out)) resolve({ proc, output: () => out });
    });
    proc.stderr?.on('data', (d) => {
      err += d;
    });
    proc.on('exit', (code) =>
      reject(new Error(`${script} exited (${code}) before ${ready}: ${err}`)),
    );
  });
}
