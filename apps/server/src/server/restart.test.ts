import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, expectBuiltCli, serveUrl } from '../__fixtures__/built-cli';
import { pngOf, writeLenetCheckpoint } from '../__fixtures__/served-model';
import { decodeLimited, predictProbabilities, preprocess } from '../inference';
import { loadModelDir } from '../model-files';

// Kill and restart the built server (`dist/cli.js serve`) while clients send requests over
// 127.0.0.1. What is checked: every request that got a 2xx response got the right answer (the
// in-process prediction for its image); every other request failed at the client (a connection
// error) or got a 503 (draining); after SIGTERM the process exits 0; a server restarted on the
// same port answers correctly again.
const LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

let dir: string;
const images = LABELS.map((l) => pngOf(l));
let expected: Float32Array[];

beforeAll(async () => {
  expectBuiltCli();
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'convkit-restart-'));
  await writeLenetCheckpoint(join(dir, 'fmnist'));
  const model = await loadModelDir(join(dir, 'fmnist'));
  const inputs = [];
  for (const png of images) inputs.push(preprocess(await decodeLimited(png, 1, 'x'), model));
  expected = await predictProbabilities(model, inputs);
  model.model.dispose();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startServer(
  port = 0,
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--model',
      `fmnist=${join(dir, 'fmnist')}`,
      '--port',
      String(port),
      '--backend',
      'wasm',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await serveUrl(child);
  return { child, url, exited };
}

type Outcome =
  | {
      kind: 'answer';
      status: number;
      image: number;
      sentAt: number;
      body: { predictions?: { index: number; probability: number }[][] };
    }
  | { kind: 'connection-error'; image: number; message: string; sentAt: number };

/** `connections` clients, each sending one request after the other until `until()` is true. */
async function load(url: string, connections: number, until: () => boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!until()) {
        const image = next++ % images.length;
        const sentAt = performance.now();
        try {
          const res = await fetch(`${url}/v1/models/fmnist/predict?topK=10`, {
            method: 'POST',
            body: new Uint8Array(images[image]),
            headers: { 'content-type': 'image/png' },
          });
          outcomes.push({
            kind: 'answer',
            status: res.status,
            image,
            sentAt,
            body: await res.json(),
          });
        } catch (error) {
          outcomes.push({
            kind: 'connection-error',
            image,
            message: String((error as Error).cause ?? error),
            sentAt,
          });
          await new Promise((r) => setTimeout(r, 20)); // a refused connection fails at once
        }
      }
    }),
  );
  return outcomes;
}

/** Every 2xx carries the in-process probabilities of its image; returns the counts. */
function check(outcomes: Outcome[]) {
  const counts = { ok: 0, status503: 0, connectionErrors: 0, other: 0 };
  for (const o of outcomes) {
    if (o.kind === 'connection-error') {
      counts.connectionErrors++;
      continue;
    }
    if (o.status === 200) {
      counts.ok++;
      const got = o.body.predictions?.[0] ?? [];
      expect(got).toHaveLength(10);
      for (const p of got)
        expect(Math.abs(p.probability - expected[o.image][p.index])).toBeLessThan(1e-5);
    } else if (o.status === 503) counts.status503++;
    else counts.other++;
  }
  return counts;
}

describe('kill and restart under load (built server, 127.0.0.1)', () => {
  it('SIGKILL: answered requests are right, the rest fail at the client; a restart serves again', async () => {
    const first = await startServer();
    const port = Number(new URL(first.url).port);
    let stop = false;
    const running = load(first.url, 16, () => stop);
    await new Promise((r) => setTimeout(r, 1200));
    first.child.kill('SIGKILL');
    await first.exited;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    const counts = check(await running);
    // Requests in flight at the kill and those sent after it: connection errors, no answer.
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.connectionErrors).toBeGreaterThan(0);
    expect(counts.other + counts.status503).toBe(0);

    const second = await startServer(port);
    let stop2 = false;
    const again = load(second.url, 8, () => stop2);
    await new Promise((r) => setTimeout(r, 800));
    stop2 = true;
    const counts2 = check(await again);
    expect(counts2).toMatchObject({ connectionErrors: 0, status503: 0, other: 0 });
    expect(counts2.ok).toBeGreaterThan(0);
    second.child.kill('SIGKILL');
    await second.exited;
    console.log(`SIGKILL: ${JSON.stringify(counts)}; after restart: ${JSON.stringify(counts2)}`);
  }, 60_000);

  it('SIGTERM: answered requests are right, the rest get 503 or a connection error; exit 0', async () => {
    const server = await startServer();
    let stop = false;
    const running = load(server.url, 16, () => stop);
    await new Promise((r) => setTimeout(r, 1200));
    const signalAt = performance.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    const outcomes = await running;
    const counts = check(outcomes);
    // Sent before the signal but not answered (a request racing the close of an idle keep-alive
    // socket is reset before the server reads it): reported, not asserted.
    const unansweredBeforeSignal = outcomes.filter(
      (o) => o.sentAt < signalAt && !(o.kind === 'answer' && o.status === 200),
    ).length;
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.other).toBe(0);
    console.log(`SIGTERM: ${JSON.stringify({ ...counts, unansweredBeforeSignal })}`);
  }, 60_000);
});
