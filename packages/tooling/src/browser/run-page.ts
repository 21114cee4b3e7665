import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';

/** Debian's Chromium; the only browser these suites use (never `playwright install`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags that give headless Chromium a WebGPU adapter (SwiftShader on a machine without a GPU)
 * and keep it from reaching the network. Without --enable-unsafe-webgpu there is no adapter.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface BrowserPageOptions {
  /** The page's TypeScript entry, bundled with esbuild (source conditions, so no build needed). */
  entry: string;
  /** The `window` global the page sets, with `done: true`, when it has finished or failed. */
  resultGlobal: string;
  /** Chromium binary; CHROMIUM_PATH by default. */
  executablePath?: string;
  /** Query string appended to the page's URL (e.g. `?steps=10`), read by the page. */
  search?: string;
  /** Budget for the page to finish, in ms (default 150 s). */
  timeoutMs?: number;
  /** Receives progress lines (the page's console, timings); silent by default. */
  log?: (line: string) => void;
}

export interface BrowserPageTimings {
  bundleMs: number;
  launchMs: number;
  pageMs: number;
  totalMs: number;
}

export interface BrowserPageReport<T> {
  /** What the page left on `window[resultGlobal]`. */
  result: T;
  timings: BrowserPageTimings;
  /** Everything the page wrote to its console, for diagnosing a failure. */
  console: string[];
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * Bundle a test page with esbuild, serve it on 127.0.0.1 beside tfjs-backend-wasm's `.wasm`
 * files, open it in headless Chromium with WebGPU enabled, wait for `window[resultGlobal].done`
 * and return what the page left there. Everything it starts is closed and removed, also on
 * failure.
 */
export async function runBrowserPage<T>(
  options: BrowserPageOptions,
): Promise<BrowserPageReport<T>> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  const timeoutMs = options.timeoutMs ?? 150_000;
  const log = options.log ?? (() => {});
  if (!existsSync(executablePath)) {
    throw new Error(
      `runBrowserPage: no Chromium at ${executablePath}. The browser suites ` +
        "drives Debian's Chromium through playwright-core; install it with: apt-get install -y chromium " +
        '(do not run `playwright install`).',
    );
  }

  const started = performance.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    // (a) The page and tfjs-backend-wasm's binaries in one temporary directory.
    const siteDir = await mkdtemp(join(tmpdir(), 'convkit-browser-site-'));
    cleanups.push(() => rm(siteDir, { recursive: true, force: true }));
    const bundleStart = performance.now();
    await bundlePage(options.entry, siteDir);
    const bundleMs = performance.now() - bundleStart;
    log(`bundled the page in ${bundleMs.toFixed(0)} ms`);

    // (b) A static server on a random port of 127.0.0.1.
    const server = await serve(siteDir);
    cleanups.push(() => closeServer(server));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html${options.search ?? ''}`;

    // (c) Chromium with WebGPU, in a fresh profile.
    const launchStart = performance.now();
    const userDataDir = await mkdtemp(join(tmpdir(), 'convkit-chromium-profile-'));
    cleanups.push(() => rm(userDataDir, { recursive: true, force: true }));
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      // Measured with Debian's Chromium 156: headless true (Playwright's --headless) with or
      // without --headless=new gives the SwiftShader adapter; --enable-unsafe-webgpu is what matters.
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    // Registered after the profile directory, so it runs before the directory is removed.
    cleanups.push(() => withTimeout(context.close(), 15_000, 'closing Chromium').catch(() => {}));
    const launchMs = performance.now() - launchStart;
    log(`launched Chromium in ${launchMs.toFixed(0)} ms`);

    // (d) Run the page and read what it leaves on window.
    const consoleLines: string[] = [];
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      const line = `[page ${m.type()}] ${m.text()}`;
      consoleLines.push(line);
      log(line);
    });
    page.on('pageerror', (e) => {
      const line = `[page error] ${e.message}`;
      consoleLines.push(line);
      log(line);
    });
    const pageStart = performance.now();
    await page.goto(url, { timeout: 30_000 });
    try {
      await page.waitForFunction(
        (key) => (window as any)[key]?.done === true,
        options.resultGlobal,
        {
          timeout: timeoutMs,
          polling: 250,
        },
      );
    } catch (error) {
      throw new Error(
        `runBrowserPage: the page did not finish within ${timeoutMs} ms (${(error as Error).message.split('\n')[0]}). Its console:\n${consoleLines.join('\n')}`,
      );
    }
    const result = (await page.evaluate((key) => (window as any)[key], options.resultGlobal)) as T;
    const pageMs = performance.now() - pageStart;
    return {
      result,
      console: consoleLines,
      timings: { bundleMs, launchMs, pageMs, totalMs: performance.now() - started },
    };
  } finally {
    // (e) Browser first, then the server, then the directories (reverse order of creation).
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error) => log(`cleanup failed: ${(error as Error).message}`));
    }
  }
}

async function bundlePage(entry: string, outDir: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [entry],
    outfile: join(outDir, 'page.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source', 'browser', 'module', 'import'],
    sourcemap: 'linked',
    logLevel: 'silent',
    // Node-only optional peers are imported by a computed specifier and never reached here.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const require = createRequire(import.meta.url);
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const name of await readdir(wasmDist)) {
    if (name.endsWith('.wasm')) await copyFile(join(wasmDist, name), join(outDir, name));
  }
  await writeFile(
    join(outDir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>convkit browser suite</title>' +
      '<script type="module" src="./page.js"></script>\n',
  );
}

function serve(root: string): Promise<Server> {
  const server = createServer(async (request, response) => {
    // Flat directory: serve a file by its base name only, nothing outside root.
    const name =
      basename(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)) ||
      'index.html';
    try {
      const body = await readFile(join(root, name));
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      response.end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(`not found: ${name}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
