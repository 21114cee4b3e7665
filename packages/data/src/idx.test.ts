import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx, gunzipBytes, idxDataset, loadIdxDataset, parseIdx, readIdxFile } from './index';

describe('IDX', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convkit-idx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses ubyte and big-endian int / float files', () => {
    const u = parseIdx(encodeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6])));
    expect(u.dims).toEqual([2, 3]);
    expect(Array.from(u.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const f = new Uint8Array(4 + 4 + 8);
    const view = new DataView(f.buffer);
    f.set([0, 0, 0x0d, 1]);
    view.setUint32(4, 2, false);
    view.setFloat32(8, 1.5, false);
    view.setFloat32(12, -2, false);
    expect(Array.from(parseIdx(f).data)).toEqual([1.5, -2]);
    const i = new Uint8Array(12);
    i.set([0, 0, 0x0c, 1, 0, 0, 0, 1]);
    new DataView(i.buffer).setInt32(8, -7, false);
    expect(Array.from(parseIdx(i).data)).toEqual([-7]);
  });

  it('validates magic, length and counts with errors naming the file', async () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 5]), 'x.idx')).toThrow(
      /x.idx: bad IDX magic number 01 02 03 04/,
    );
    const truncated = encodeIdx([3, 2], new Uint8Array(6)).subarray(0, 15);
    expect(() => parseIdx(truncated, 'short.idx')).toThrow(
      /short.idx: dimensions \[3,2\] of ubyte need 18 bytes, but the file has 15 \(truncated\?\)/,
    );
    expect(() => parseIdx(gzipSync(encodeIdx([1], new Uint8Array(1))), 'z.gz')).toThrow(
      /z.gz: the data is gzipped/,
    );
    const imagesPath = join(dir, 'images.idx');
    const labelsPath = join(dir, 'labels.idx.gz');
    await writeFile(imagesPath, encodeIdx([3, 2, 2], new Uint8Array(12).fill(7)));
    await writeFile(labelsPath, gzipSync(encodeIdx([2], Uint8Array.from([0, 1]))));
    await expect(loadIdxDataset({ images: imagesPath, labels: labelsPath })).rejects.toThrow(
      `${imagesPath} has 3 images but ${labelsPath} has 2 labels`,
    );
    await expect(readIdxFile(join(dir, 'missing'))).rejects.toThrow(/cannot read .*missing/);
    expect(() =>
      idxDataset(
        parseIdx(encodeIdx([4], new Uint8Array(4))),
        parseIdx(encodeIdx([4], new Uint8Array(4))),
        { imagesName: 'i' },
      ),
    ).toThrow(/i: expected ubyte images of 3 or 4 dimensions/);
  });

  it('reads gzipped and plain files alike (gzip detected by magic bytes, not the name)', async () => {
    const bytes = encodeIdx([2, 2, 2], Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await writeFile(join(dir, 'plain.gz'), bytes); // misleading name, plain content
    await writeFile(join(dir, 'zipped'), gzipSync(bytes));
    const a = await readIdxFile(join(dir, 'plain.gz'));
    const b = await readIdxFile(join(dir, 'zipped'));
    expect(a).toEqual(b);
    expect(await gunzipBytes(gzipSync(bytes))).toEqual(bytes);
    expect(await gunzipBytes(bytes)).toBe(bytes);
    await writeFile(join(dir, 'l'), encodeIdx([2], Uint8Array.from([3, 1])));
    const ds = await loadIdxDataset({ images: join(dir, 'zipped'), labels: join(dir, 'l') });
    expect(ds.length).toBe(2);
    expect(ds.get(1)).toEqual({
      image: { data: Uint8Array.from([5, 6, 7, 8]), height: 2, width: 2, channels: 1 },
      label: 1,
    });
  });
});
