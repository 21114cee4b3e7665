import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  channelStats,
  downloadFashionMnist,
  encodeIdx,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SYSTEM_DIR,
  loadFashionMnist,
  readIdxFile,
} from './index';

const haveSystemData = existsSync(join(FASHION_MNIST_SYSTEM_DIR, 'train-images-idx3-ubyte.gz'));

describe.skipIf(!haveSystemData)('real Fashion-MNIST (Debian dataset-fashion-mnist)', () => {
  it('headers, counts and first labels of both splits', async () => {
    const dir = FASHION_MNIST_SYSTEM_DIR;
    const trainImages = await readIdxFile(join(dir, FASHION_MNIST_FILES.train.images));
    expect(trainImages.dims).toEqual([60000, 28, 28]);
    const testLabels = await readIdxFile(join(dir, FASHION_MNIST_FILES.test.labels));
    expect(testLabels.dims).toEqual([10000]);
    expect(Array.from(testLabels.data.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    vi.stubEnv('CONVKIT_DATA', '');
    const empty = await mkdtemp(join(tmpdir(), 'convkit-fm-cache-'));
    try {
      const train = await loadFashionMnist({ split: 'train', cacheDir: empty });
      expect(train.length).toBe(60000);
      expect([train.height, train.width, train.channels]).toEqual([28, 28, 1]);
      expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
      expect(FASHION_MNIST_CLASSES[train.get(0).label]).toBe('Ankle boot');
      const first = train.get(0).image.data;
      expect(Array.from(first).reduce((a, b) => a + b, 0)).toBe(76247);
      const test = await loadFashionMnist({ split: 'test', cacheDir: empty });
      expect(test.length).toBe(10000);

      // torchvision's well-known normalization constants for Fashion-MNIST train.
      const stats = await channelStats(train);
      expect(stats.count).toBe(60000 * 784);
      expect(Math.abs(stats.mean[0] - 0.286)).toBeLessThan(5e-4);
      expect(Math.abs(stats.std[0] - 0.353)).toBeLessThan(5e-4);
    } finally {
      vi.unstubAllEnvs();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

/** Tiny Fashion-MNIST-shaped IDX files: n images of 28x28 whose pixels equal the index. */
function tinyFiles(nTrain: number, nTest: number): Record<string, Uint8Array> {
  const images = (n: number) =>
    gzipSync(
      encodeIdx(
        [n, 28, 28],
        Uint8Array.from({ length: n * 784 }, (_, i) => Math.floor(i / 784)),
      ),
    );
  const labels = (n: number) =>
    encodeIdx(
      [n],
      Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10),
    );
  return {
    [FASHION_MNIST_FILES.train.images]: images(nTrain),
    [FASHION_MNIST_FILES.train.labels]: gzipSync(labels(nTrain)),
    [FASHION_MNIST_FILES.test.images]: images(nTest),
    // Served uncompressed under the .gz name: the reader detects gzip by magic bytes.
    [FASHION_MNIST_FILES.test.labels]: labels(nTest),
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Fashion-MNIST download and lookup', () => {
  const files = tinyFiles(5, 3);
  const checksums = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(v)]));
  let server: Server;
  let baseUrl: string;
  const requests: string[] = [];
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'convkit-fm-'));
    server = createServer((req, res) => {
      const name = (req.url ?? '').replace(/^\/data\//, '');
      requests.push(name);
      const body = files[name];
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Two chunks, to exercise the streaming hash.
      res.write(body.subarray(0, 10));
      res.end(body.subarray(10));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('downloads the four files atomically, verified by SHA-256, and loads them', async () => {
    const cacheDir = join(root, 'cache');
    vi.stubEnv('CONVKIT_DATA', '');
    try {
      const train = await loadFashionMnist({
        split: 'train',
        cacheDir,
        systemDir: null,
        download: true,
        baseUrl,
        checksums,
      });
      expect(train.length).toBe(5);
      expect(train.get(4).image.data[0]).toBe(4);
      expect(Array.from(train.labels)).toEqual([0, 3, 6, 9, 2]);
      expect((await readdir(cacheDir)).sort()).toEqual(Object.keys(files).sort());
      const test = await loadFashionMnist({
        split: 'test',
        cacheDir,
        systemDir: null,
        baseUrl,
        checksums,
      });
      expect(test.length).toBe(3);
      // Present and verified: a second download fetches nothing.
      requests.length = 0;
      await downloadFashionMnist({ dir: cacheDir, baseUrl, checksums });
      expect(requests).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a checksum mismatch deletes the temporary file and names file, expected and received hash', async () => {
    const dir = join(root, 'bad');
    const wrong = { ...checksums, [FASHION_MNIST_FILES.train.labels]: 'ab'.repeat(32) };
    const error = await downloadFashionMnist({ dir, baseUrl, checksums: wrong }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('train-labels-idx1-ubyte.gz');
    expect(message).toContain(`expected ${'ab'.repeat(32)}`);
    expect(message).toContain(`received ${checksums[FASHION_MNIST_FILES.train.labels]}`);
    // Only the file verified before the failure is there; no partial file is left behind.
    expect(await readdir(dir)).toEqual([FASHION_MNIST_FILES.train.images]);
    const missing = await downloadFashionMnist({
      dir,
      baseUrl: `${baseUrl}nope/`,
      checksums,
    }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/HTTP 404/);
    expect(await readdir(dir)).toEqual([FASHION_MNIST_FILES.train.images]);
  });

  it('finds files through CONVKIT_DATA and an explicit path; says how to get missing data', async () => {
    const dataRoot = join(root, 'data');
    await mkdir(join(dataRoot, 'fashion-mnist'), { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
      await writeFile(join(dataRoot, 'fashion-mnist', name), bytes);
    }
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    vi.stubEnv('CONVKIT_DATA', dataRoot);
    try {
      const ds = await loadFashionMnist({ split: 'test', cacheDir: empty, systemDir: null });
      expect(ds.length).toBe(3);
    } finally {
      vi.unstubAllEnvs();
    }
    const explicit = await loadFashionMnist({ path: join(dataRoot, 'fashion-mnist') });
    expect(explicit.length).toBe(5);

    vi.stubEnv('CONVKIT_DATA', '');
    try {
      const error = await loadFashionMnist({
        split: 'train',
        cacheDir: empty,
        systemDir: null,
      }).catch((e: Error) => e);
      const message = (error as Error).message;
      expect(message).toContain('Fashion-MNIST (train) not found');
      expect(message).toContain(empty);
      expect(message).toContain('apt-get install dataset-fashion-mnist');
      expect(message).toContain('CONVKIT_DATA');
      expect(message).toContain('download: true');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
