import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadWeights, fetchWeights, TORCHVISION_WEIGHTS, torchvisionWeights } from './index';

const body = readFileSync(new URL('./__fixtures__/pth-dtypes.pt', import.meta.url));
const sha256 = createHash('sha256').update(body).digest('hex');
let server: Server;
let base = '';
let requests = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests++;
    if (request.url === `/models/tiny-${sha256.slice(0, 8)}.pth`) {
      response.writeHead(200, { 'content-length': body.byteLength });
      // In two chunks, so the stream is consumed piece by piece.
      response.write(body.subarray(0, 1000));
      setTimeout(() => response.end(body.subarray(1000)), 5);
    } else if (request.url === '/models/tampered.pth') {
      const copy = Buffer.from(body);
      copy[100] ^= 1;
      response.writeHead(200, { 'content-length': copy.byteLength });
      response.end(copy);
    } else if (request.url === '/models/short.pth') {
      response.writeHead(200, { 'content-length': body.byteLength + 10 });
      response.end(body.subarray(0, 10));
      request.socket.destroy();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('torchvision registry', () => {
  it('has the metadata torchvision publishes, and names the valid choices', () => {
    const r18 = torchvisionWeights('resnet18');
    expect(r18).toMatchObject({
      url: 'https://download.pytorch.org/models/resnet18-f37072fd.pth',
      sha256Prefix: 'f37072fd',
      numParams: 11689512,
      top1: 69.758,
      inputSize: [224, 224, 3],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      numClasses: 1000,
    });
    expect(torchvisionWeights('resnet50', 'IMAGENET1K_V2').fileName).toBe('resnet50-11ad3fa6.pth');
    for (const w of TORCHVISION_WEIGHTS) expect(w.sha256Prefix).toMatch(/^[0-9a-f]{8}$/);
    expect(() => torchvisionWeights('resnet19')).toThrow(
      /unknown model "resnet19"; known: resnet18, resnet34, .*squeezenet1_1/,
    );
    expect(() => torchvisionWeights('resnet18', 'IMAGENET1K_V2')).toThrow(
      'torchvisionWeights: resnet18 has no weights "IMAGENET1K_V2"; known: IMAGENET1K_V1',
    );
  });
});

describe('downloadWeights (local server and file: URLs; no network here)', () => {
  it('streams to disk, checks the SHA-256 prefix or the full digest, and reuses a good copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weights-'));
    const url = `${base}/models/tiny-${sha256.slice(0, 8)}.pth`;
    const progress: number[] = [];
    const path = await downloadWeights(
      { url, sha256Prefix: sha256.slice(0, 8) },
      { dir, onProgress: (n) => progress.push(n) },
    );
    expect(path).toBe(join(dir, `tiny-${sha256.slice(0, 8)}.pth`));
    expect(readFileSync(path).equals(body)).toBe(true);
    expect(progress.at(-1)).toBe(body.byteLength);
    const before = requests;
    await downloadWeights({ url, sha256 }, { dir });
    expect(requests).toBe(before); // verified on disk, not fetched again
    writeFileSync(path, 'damaged');
    await downloadWeights({ url, sha256 }, { dir });
    expect(requests).toBe(before + 1);
    expect(readFileSync(path).equals(body)).toBe(true);
  });

  it('keeps nothing from a tampered, truncated or missing download, naming the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weights-'));
    await expect(
      downloadWeights({ url: `${base}/models/tampered.pth`, sha256 }, { dir }),
    ).rejects.toThrow(`SHA-256 mismatch: expected ${sha256}, the download has`);
    await expect(
      downloadWeights({ url: `${base}/models/short.pth`, sha256 }, { dir }),
    ).rejects.toThrow(/short\.pth: (the download failed after \d+ bytes|truncated)/);
    await expect(
      downloadWeights({ url: `${base}/models/none.pth`, sha256 }, { dir }),
    ).rejects.toThrow(`weights ${base}/models/none.pth: HTTP 404`);
    expect(readdirSync(dir)).toEqual([]);
    await expect(downloadWeights({ url: `${base}/models/x.pth` }, { dir })).rejects.toThrow(
      /expected a sha256 \(64 hex digits\) or a sha256Prefix/,
    );
  });

  it('reads file: URLs, and fetchWeights checks in memory with Web Crypto', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weights-'));
    const source = join(mkdtempSync(join(tmpdir(), 'weights-src-')), 'model.pth');
    writeFileSync(source, body);
    const path = await downloadWeights({ url: pathToFileURL(source).href, sha256 }, { dir });
    expect(readFileSync(path).equals(body)).toBe(true);
    const bytes = await fetchWeights({
      url: `${base}/models/tiny-${sha256.slice(0, 8)}.pth`,
      sha256,
    });
    expect(bytes.byteLength).toBe(body.byteLength);
    await expect(
      fetchWeights({ url: `${base}/models/tampered.pth`, sha256Prefix: sha256.slice(0, 8) }),
    ).rejects.toThrow(/SHA-256 mismatch/);
    expect(existsSync(join(dir, 'tampered.pth'))).toBe(false);
  });
});
