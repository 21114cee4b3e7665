import { createRequire } from 'node:module';

/**
 * Bundle a TypeScript entry from the sources into one ESM file that plain Node runs (worker
 * threads and worker processes cannot load .ts); esbuild comes with the private tooling package.
 */
export async function bundle(entry: string, outfile: string): Promise<string> {
  const require = createRequire(createRequire(import.meta.url).resolve('@convkit/tooling/package.json'));
  const esbuild = require('esbuild') as { build(options: Record<string, unknown>): Promise<unknown> };
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}
