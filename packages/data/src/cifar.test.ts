import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, loadCifarBinary, parseCifarBinary } from './index';

/** A pixel value that encodes (record, channel, y, x). */
const pixel = (r: number, c: number, y: number, x: number) => (r * 50 + c * 17 + y * 3 + x) % 256;

/** CIFAR binary records: label byte(s), then the R, G and B 32x32 planes. */
function records(labels: number[][]): Uint8Array {
  const size = labels[0].length + 3072;
  const out = new Uint8Array(labels.length * size);
  labels.forEach((l, r) => {
    const base = r * size;
    out.set(l, base);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++)
          out[base + l.length + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
      }
    }
  });
  return out;
}

describe('CIFAR binary', () => {
  it('CIFAR-10: 1 + 3072 byte records, CHW planes become HWC', () => {
    const ds = parseCifarBinary(records([[3], [9], [0]]));
    expect(ds.length).toBe(3);
    expect([ds.height, ds.width, ds.channels]).toEqual([32, 32, 3]);
    expect(Array.from(ds.labels)).toEqual([3, 9, 0]);
    expect(ds.classNames?.[ds.labels[0]]).toBe(CIFAR10_CLASSES[3]);
    const { image } = ds.get(1);
    for (const [y, x] of [
      [0, 0],
      [5, 7],
      [31, 30],
    ]) {
      for (let c = 0; c < 3; c++) expect(image.data[(y * 32 + x) * 3 + c]).toBe(pixel(1, c, y, x));
    }
  });

  it('CIFAR-100: 2 + 3072 byte records with coarse and fine labels; several files', () => {
    const a = records([
      [4, 30],
      [19, 99],
    ]);
    const b = records([[0, 55]]);
    const fine = parseCifarBinary([a, b], { variant: 'cifar100' });
    expect(Array.from(fine.labels)).toEqual([30, 99, 55]);
    const coarse = parseCifarBinary([a, b], { variant: 'cifar100', labels: 'coarse' });
    expect(Array.from(coarse.labels)).toEqual([4, 19, 0]);
    // Record 0 of the second file is the third sample.
    expect(fine.get(2).image.data[(2 * 32 + 1) * 3 + 2]).toBe(pixel(0, 2, 2, 1));
    expect(fine.get(1).image.data[0]).toBe(pixel(1, 0, 0, 0));
  });

  it('validates record length and label range with errors naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convkit-cifar-'));
    try {
      const path = join(dir, 'data_batch_1.bin');
      await writeFile(path, records([[1], [2]]).subarray(0, 5000));
      await expect(loadCifarBinary(path)).rejects.toThrow(
        /data_batch_1.bin: 5000 bytes is not a whole number of cifar10 records of 3073 bytes/,
      );
      const hundred = join(dir, 'train.bin');
      await writeFile(
        hundred,
        records([
          [1, 70],
          [2, 3],
        ]),
      );
      await expect(loadCifarBinary(hundred)).rejects.toThrow(/use variant "cifar100"/);
      await writeFile(join(dir, 'test.bin.gz'), gzipSync(records([[1, 70]])));
      const ds = await loadCifarBinary([join(dir, 'test.bin.gz')], { variant: 'cifar100' });
      expect(Array.from(ds.labels)).toEqual([70]);
      expect(() => parseCifarBinary(records([[12]]), { names: ['x.bin'] })).toThrow(
        /x.bin: record 0 has label 12, outside \[0, 10\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
