import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, convkit, expectBuiltCli, serveUrl } from '../__fixtures__/built-cli';
import { pngOf, writeLenetCheckpoint } from '../__fixtures__/served-model';
import { type LoadedModel, loadModelDir } from '../model-files';
import { DEFAULT_WEB_DIR, webDirFor } from '../program';
import { buildServer, checkWebDir } from './app';

// `convkit serve --web DIR`: the web app's build and the API on one port, over real HTTP on
// 127.0.0.1, with a two-file stand-in for the build (index.html + assets/app.js).
const WEB = fileURLToPath(new URL('../__fixtures__/web', import.meta.url));
const INDEX = readFileSync(join(WEB, 'index.html'), 'utf8');
const ASSET = readFileSync(join(WEB, 'assets', 'app.js'), 'utf8');
// Files outside the web root that a traversal would reach: the fixtures folder's own helper
// and the app's package.json.
const OUTSIDE = readFileSync(
  fileURLToPath(new URL('../__fixtures__/built-cli.ts', import.meta.url)),
  'utf8',
);

/** One request with the path sent exactly as written (fetch would normalize `..` away). */
function raw(
  url: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-web-'));
  await writeLenetCheckpoint(join(dir, 'fmnist'));
  model = await loadModelDir(join(dir, 'fmnist'));
});
afterAll(async () => {
  model?.model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('the web directory beside the API', () => {
  let server: Awaited<ReturnType<typeof buildServer>>;
  let url: string;
  beforeAll(async () => {
    server = await buildServer({ models: [model], logger: false, web: WEB });
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.drain();
  });

  it('serves index.html at / as text/html and an asset with its content type', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toBe(INDEX);

    const asset = await fetch(`${url}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(await asset.text()).toBe(ASSET);

    const head = await raw(url, '/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.type).toMatch(/^text\/html/);
    expect(head.body).toBe('');
  });

  it('answers client-side routes with index.html, but not missing files', async () => {
    for (const path of ['/train', '/models/fmnist/inspect', '/transfer?step=2']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(await res.text(), path).toBe(INDEX);
    }
    const missing = await fetch(`${url}/assets/missing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await missing.json()).message).toContain('/assets/missing.js');
    // Only GET / HEAD fall back.
    const post = await fetch(`${url}/train`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect((await post.json()).error).toBe('Not Found');
  });

  it('keeps the API first: health, readiness, models, metrics, OpenAPI, predict', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready', models: 1 });
    const list = await (await fetch(`${url}/v1/models`)).json();
    expect(list.models.map((m: { name: string }) => m.name)).toEqual(['fmnist']);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain('convkit_http_requests_total');
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toContain('/v1/models');
    expect(Object.keys(doc.paths)).not.toContain('/*'); // the static route stays out of the API doc
    const predict = await fetch(`${url}/v1/models/fmnist/predict?topK=2`, {
      method: 'POST',
      body: pngOf(3),
      headers: { 'content-type': 'image/png' },
    });
    expect(predict.status).toBe(200);
    expect((await predict.json()).predictions[0]).toHaveLength(2);
  });

  it('answers unknown API paths with a JSON 404, never with index.html', async () => {
    for (const path of [
      '/v1/nothing',
      '/v1',
      '/v1/models/fmnist/summary',
      '/healthz/deep',
      '/metrics/x',
      '/%76%31/nothing', // /v1/nothing, percent-encoded
    ]) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      const body = await res.json();
      expect(body, path).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(body.message, path).toContain('no route GET');
    }
  });

  it('refuses path traversal, plain and encoded', async () => {
    for (const path of [
      '/../built-cli.ts',
      '/../../../package.json',
      '/assets/../../built-cli.ts',
      '/%2e%2e/built-cli.ts',
      '/%2E%2E/%2E%2E/%2E%2E/package.json',
      '/..%2fbuilt-cli.ts',
      '/assets/..%2f..%2fbuilt-cli.ts',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/..%5cbuilt-cli.ts',
      '/%252e%252e/built-cli.ts',
      '/assets/%2e%2e/%2e%2e/served-model.ts',
    ]) {
      const res = await raw(url, path);
      expect([400, 403, 404], `${path}: ${res.status}`).toContain(res.status);
      expect(res.type, path).toMatch(/^application\/json/);
      expect(res.body, path).not.toContain('@convkit/server');
      expect(res.body, path).not.toContain(OUTSIDE.slice(0, 80));
    }
  });

  it('refuses a web directory that does not exist or has no index.html', async () => {
    expect(() => checkWebDir(join(dir, 'nowhere'))).toThrow(
      /web directory '.*nowhere' does not exist/,
    );
    expect(() => checkWebDir(join(WEB, 'assets'))).toThrow(/has no index\.html/);
    await expect(
      buildServer({ models: [model], logger: false, web: join(dir, 'nowhere') }),
    ).rejects.toThrow(/does not exist/);
  });
});

describe('convkit serve --web (the built CLI)', () => {
  it('names --web and --no-web in its help, with the default', async () => {
    expectBuiltCli();
    const help = await convkit('serve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--web <dir>');
    expect(help.stdout).toContain('--no-web');
    expect(help.stdout).toContain('apps/web/dist');
  });

  it('resolves --web, --no-web and the default', () => {
    expect(webDirFor('some/dir')).toBe('some/dir');
    expect(webDirFor(false)).toBeUndefined();
    expect(DEFAULT_WEB_DIR.split(/[\\/]/).slice(-3)).toEqual(['apps', 'web', 'dist']);
  });

  it('fails fast with a clear message for a missing --web directory', async () => {
    expectBuiltCli();
    const res = await convkit(
      'serve',
      '--model',
      join(dir, 'fmnist'),
      '--port',
      '0',
      '--web',
      join(dir, 'no-build'),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/convkit: web directory '.*no-build' does not exist/);
  });

  it('serves the page and the API from one port, and only the API with --no-web', async () => {
    expectBuiltCli();
    for (const web of [['--web', WEB], ['--no-web']]) {
      const child = spawn(
        process.execPath,
        [CLI, 'serve', '--model', join(dir, 'fmnist'), '--port', '0', '--backend', 'cpu', ...web],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      try {
        const address = await serveUrl(child);
        const index = await fetch(`${address}/`);
        const health = await fetch(`${address}/healthz`);
        expect(await health.json()).toEqual({ status: 'ok' });
        if (web[0] === '--web') {
          expect(index.status).toBe(200);
          expect(await index.text()).toBe(INDEX);
        } else {
          expect(index.status).toBe(404);
          expect((await index.json()).error).toBe('Not Found');
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  });
});
