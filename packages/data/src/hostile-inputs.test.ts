// Inputs built to exhaust memory or time, or to trap a directory walk: refused early, with
// errors that name the file and the limit.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImage,
  encodeIdx,
  gunzipBytes,
  imageFolderDataset,
  loadCifarBinary,
  MAX_IMAGE_PIXELS,
  MAX_IMAGE_SIDE,
  readIdxFile,
} from './index';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'convkit-hostile-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A PNG whose IHDR declares `width` x `height`, with `idat` as its (possibly bogus) data. */
function pngDeclaring(width: number, height: number, idat = new Uint8Array(0)): Uint8Array {
  const small = PNG.sync.write(
    Object.assign(new PNG({ width: 1, height: 1 }), { data: Buffer.alloc(4, 255) }),
  );
  const out = new Uint8Array(small);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  // The IHDR CRC is left stale: the size check comes before anything reads further.
  return idat.byteLength ? Uint8Array.from([...out, ...idat]) : out;
}

/** A baseline JPEG whose SOF0 declares `width` x `height`. */
function jpegDeclaring(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(
    jpeg.encode({ data: Buffer.alloc(8 * 8 * 4, 128), width: 8, height: 8 }, 90).data,
  );
  for (let i = 2; i < bytes.length - 9; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) {
      const view = new DataView(bytes.buffer);
      view.setUint16(i + 5, height);
      view.setUint16(i + 7, width);
      return bytes;
    }
  }
  throw new Error('no SOF0 in the test JPEG');
}

describe('decodeImage refuses huge dimensions before decoding', () => {
  it('has sensible defaults', () => {
    expect(MAX_IMAGE_SIDE).toBe(16384);
    expect(MAX_IMAGE_PIXELS).toBe(40_000_000);
  });

  it.each([
    [
      'a PNG of 12000x12000 (over the pixel cap)',
      () => pngDeclaring(12000, 12000),
      /12000x12000 .*144000000 pixels.*limit of 40000000/,
    ],
    [
      'a PNG of 20000x10 (over the side cap)',
      () => pngDeclaring(20000, 10),
      /20000x10 .*side.*limit of 16384/,
    ],
    ['a PNG of 0x0', () => pngDeclaring(0, 0), /0x0/],
    ['a JPEG of 65000x65000', () => jpegDeclaring(65000, 65000), /65000x65000/],
  ])('%s', async (_, make, message) => {
    const start = performance.now();
    const error = await decodeImage(make(), { name: 'big.img' }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^big.img: /);
    expect((error as Error).message).toMatch(message);
    expect(performance.now() - start).toBeLessThan(500);
  });

  it('the caps are options: a 40x30 PNG is refused under maxSide 32 or maxPixels 1000, read under the defaults', async () => {
    const image = PNG.sync.write(
      Object.assign(new PNG({ width: 40, height: 30 }), { data: Buffer.alloc(40 * 30 * 4, 7) }),
    );
    await expect(decodeImage(image, { maxSide: 32 })).rejects.toThrow(/40x30 .*limit of 32/);
    await expect(decodeImage(image, { maxPixels: 1000 })).rejects.toThrow(
      /1200 pixels.*limit of 1000/,
    );
    const decoded = await decodeImage(image);
    expect([decoded.height, decoded.width, decoded.channels]).toEqual([30, 40, 3]);
    await expect(decodeImage(image, { maxSide: 0 })).rejects.toThrow(
      /maxSide must be a positive integer/,
    );
  });
});

describe('gzipped IDX and CIFAR files are gunzipped with a cap', () => {
  const bomb = (declared: number[], actualBytes: number) => {
    const header = encodeIdx(
      declared.map((d, i) => (i === 0 ? 0 : d)),
      new Uint8Array(0),
    );
    const body = new Uint8Array(4 + 4 * declared.length + actualBytes);
    body.set(header.subarray(0, 4 + 4 * declared.length));
    new DataView(body.buffer).setUint32(4, declared[0], false);
    return gzipSync(body, { level: 9 });
  };

  it('stops at the size the IDX header declares (a file with more data than it declares)', async () => {
    const file = join(root, 'bomb-idx.gz');
    // Declares 10 images of 28x28 (7,856 bytes), holds 50 MB of zeros.
    await writeFile(file, bomb([10, 28, 28], 50_000_000));
    const error = await readIdxFile(file).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /bomb-idx.gz: decompresses to more than the 7856 bytes its IDX header declares/,
    );
  });

  it('stops at maxBytes when the header itself declares too much', async () => {
    const file = join(root, 'huge-idx.gz');
    await writeFile(file, bomb([60000, 1000, 1000], 2_000_000));
    await expect(readIdxFile(file, { maxBytes: 1_000_000 })).rejects.toThrow(
      /huge-idx.gz: decompresses to more than the 1000000-byte limit/,
    );
  });

  it('gunzipBytes (browser-safe) takes the same caps', async () => {
    const bytes = new Uint8Array(gzipSync(new Uint8Array(300_000)));
    await expect(gunzipBytes(bytes, { maxBytes: 100_000 })).rejects.toThrow(
      /decompresses to more than the 100000-byte limit/,
    );
    expect((await gunzipBytes(bytes)).byteLength).toBe(300_000);
  });

  it('a CIFAR batch gunzips at most one whole data set', async () => {
    const file = join(root, 'data_batch_1.bin.gz');
    await writeFile(file, gzipSync(new Uint8Array(3073 * 4)));
    await expect(loadCifarBinary(file, { maxBytes: 3073 * 2 })).rejects.toThrow(
      /data_batch_1.bin.gz: decompresses to more than the 6146-byte limit/,
    );
  });

  it('a corrupt gzip names the file', async () => {
    const file = join(root, 'corrupt.gz');
    const good = gzipSync(encodeIdx([3], new Uint8Array([1, 2, 3])));
    good[good.length - 6] ^= 0xff;
    await writeFile(file, good);
    await expect(readIdxFile(file)).rejects.toThrow(
      /corrupt.gz: starts with the gzip magic but does not gunzip/,
    );
  });
});

describe('image folders with symlink loops', () => {
  it('a directory link back to an ancestor: a clear error naming the path', async () => {
    const dir = join(root, 'loop-ancestor');
    await mkdir(join(dir, 'cat', 'sub'), { recursive: true });
    await writeFile(join(dir, 'cat', 'a.png'), pngDeclaring(1, 1));
    await symlink(join(dir, 'cat'), join(dir, 'cat', 'sub', 'back'));
    await expect(imageFolderDataset(dir)).rejects.toThrow(
      `imageFolderDataset: symlink loop: ${join(dir, 'cat', 'sub', 'back')} leads back to ${join(dir, 'cat')}`,
    );
  });

  it('a link to itself (ELOOP): a clear error naming the path', async () => {
    const dir = join(root, 'loop-self');
    await mkdir(join(dir, 'cat'), { recursive: true });
    await writeFile(join(dir, 'cat', 'a.png'), pngDeclaring(1, 1));
    await symlink(join(dir, 'cat', 'me'), join(dir, 'cat', 'me'));
    await expect(imageFolderDataset(dir)).rejects.toThrow(
      `imageFolderDataset: cannot follow ${join(dir, 'cat', 'me')}: symlink loop (ELOOP)`,
    );
  });
});
