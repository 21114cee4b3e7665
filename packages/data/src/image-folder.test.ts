import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, decodeImage, imageFolderDataset, resize } from './index';

/** An RGBA buffer where pixel (x, y) is (x * 40, y * 40, 100, alpha). */
function rgba(w: number, h: number, alpha = 255): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.set([x * 40, y * 40, 100, alpha], (y * w + x) * 4);
  }
  return data;
}

function png(w: number, h: number, colorType: 0 | 2 | 6, alpha = 255): Buffer {
  const image = new PNG({ width: w, height: h });
  image.data = colorType === 0 ? greyRgba(w, h) : rgba(w, h, alpha);
  return PNG.sync.write(image, { colorType });
}

function greyRgba(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set([p * 10, p * 10, p * 10, 255], p * 4);
  return data;
}

describe('image folder (Node: pngjs + jpeg-js)', () => {
  let root: string;
  beforeAll(async () => {
    await useBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'convkit-folder-'));
    // Classes sort by code point, as Python's sorted(): 'Dog' < 'bird' < 'cat'.
    for (const dir of ['cat/sub', 'bird', 'Dog', 'empty-but-nested/.x'])
      await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, 'cat', 'b.png'), png(4, 3, 2));
    await writeFile(join(root, 'cat', 'a.PNG'), png(4, 3, 6, 128));
    await writeFile(
      join(root, 'cat', 'sub', 'c.jpg'),
      jpeg.encode({ data: rgba(4, 3), width: 4, height: 3 }, 100).data,
    );
    await writeFile(join(root, 'cat', 'notes.txt'), 'not an image');
    await writeFile(join(root, 'bird', 'g.png'), png(4, 3, 0));
    await writeFile(
      join(root, 'Dog', 'z.jpeg'),
      jpeg.encode({ data: rgba(4, 3), width: 4, height: 3 }, 100).data,
    );
    await writeFile(join(root, 'empty-but-nested', 'p.png'), png(4, 3, 2));
    await writeFile(join(root, 'README'), 'files at the top level are ignored');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('orders classes and files like torchvision ImageFolder and decodes lazily', async () => {
    const ds = await imageFolderDataset(root);
    expect(ds.classNames).toEqual(['Dog', 'bird', 'cat', 'empty-but-nested']);
    expect(ds.samples.map((s) => s.path.slice(root.length + 1))).toEqual([
      'Dog/z.jpeg',
      'bird/g.png',
      'cat/a.PNG',
      'cat/b.png',
      'cat/sub/c.jpg',
      'empty-but-nested/p.png',
    ]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 2, 2, 3]);
    const rgbPng = await ds.get(3);
    expect(rgbPng.label).toBe(2);
    expect([rgbPng.image.height, rgbPng.image.width, rgbPng.image.channels]).toEqual([3, 4, 3]);
    // pixel (x=2, y=1) = (80, 40, 100)
    expect(Array.from(rgbPng.image.data.subarray((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3))).toEqual([
      80, 40, 100,
    ]);
    // RGBA -> RGB drops alpha; grey PNG -> RGB replicates.
    const rgbaPng = await ds.get(2);
    expect(Array.from(rgbaPng.image.data.subarray(0, 3))).toEqual([0, 0, 100]);
    const grey = await ds.get(1);
    expect(Array.from(grey.image.data.subarray(15, 18))).toEqual([50, 50, 50]);
    // JPEG is lossy: close to the source.
    const jpg = await ds.get(4);
    expect(Math.abs(jpg.image.data[(1 * 4 + 2) * 3] - 80)).toBeLessThan(12);
  });

  it('converts to 1 and 4 channels, and batches through a resize', async () => {
    const grey = await imageFolderDataset(root, { channels: 1 });
    const g = await grey.get(3);
    expect(g.image.channels).toBe(1);
    // PIL 'L': (80 * 299 + 40 * 587 + 100 * 114) / 1000 = 58.84 -> 59
    expect(g.image.data[1 * 4 + 2]).toBe(59);
    const four = await imageFolderDataset(root, { channels: 4 });
    expect(Array.from((await four.get(2)).image.data.subarray(0, 4))).toEqual([0, 0, 100, 128]);
    const loader = new DataLoader(grey, { batchSize: 4, transform: resize(8), prefetch: 1 });
    const shapes: number[][] = [];
    for await (const { x, y } of loader) {
      shapes.push(x.shape);
      x.dispose();
      y.dispose();
    }
    expect(shapes).toEqual([
      [4, 8, 8, 1],
      [2, 8, 8, 1],
    ]);
  });

  it('clear errors: no classes, undecodable files', async () => {
    const lonely = await mkdtemp(join(tmpdir(), 'convkit-lonely-'));
    try {
      await expect(imageFolderDataset(lonely)).rejects.toThrow(
        /no class folders in .*convkit-lonely/,
      );
      await mkdir(join(lonely, 'x'));
      await expect(imageFolderDataset(lonely)).rejects.toThrow(
        /no image files in class folder\(s\) x/,
      );
      await writeFile(join(lonely, 'x', 'fake.png'), 'definitely not a png');
      const ds = await imageFolderDataset(lonely);
      await expect(ds.get(0)).rejects.toThrow(/fake.png: not a PNG or JPEG file/);
      await expect(
        decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]), { name: 'cut.png' }),
      ).rejects.toThrow(/cut.png: cannot decode/);
    } finally {
      await rm(lonely, { recursive: true, force: true });
    }
  });
});
