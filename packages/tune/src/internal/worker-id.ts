import { importOptional, importPath } from '@convkit/backend';

/** `host:pid` (and `:thread` off the main thread): who ran a trial. */
export async function workerId(thread?: number): Promise<string> {
  const { hostname } = await importOptional<typeof import('node:os')>('node:os');
  return `${hostname()}:${process.pid}${thread ? `:${thread}` : ''}`;
}

/** A module path or URL as an `import()`-able URL string. */
export async function moduleUrl(module: string | URL): Promise<string> {
  if (module instanceof URL) return module.href;
  if (/^(file|data|node):/.test(module)) return module;
  const { pathToFileURL } = await importOptional<typeof import('node:url')>('node:url');
  const { resolve } = await importPath();
  return pathToFileURL(resolve(module)).href;
}
