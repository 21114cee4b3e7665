import { afterEach, describe, expect, it, vi } from 'vitest';
import { fileListDataset, imageUrlDataset } from './index';

/** Stand-ins for the browser's createImageBitmap / OffscreenCanvas: "decode" a 2x1 RGBA blob. */
function stubBrowser() {
  vi.stubGlobal('createImageBitmap', async (blob: Blob) => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return { width: 2, height: 1, rgba: bytes, close() {} };
  });
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      bitmap: { rgba: Uint8Array } | null = null;
      getContext() {
        return {
          drawImage: (b: { rgba: Uint8Array }) => {
            this.bitmap = b;
          },
          getImageData: () => ({ data: new Uint8ClampedArray(this.bitmap!.rgba) }),
        };
      }
    },
  );
}

function file(path: string, rgba: number[]): File {
  const f = new File([Uint8Array.from(rgba)], path.split('/').at(-1)!);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('browser sources (createImageBitmap + OffscreenCanvas)', () => {
  it('fileListDataset: classes from root/<class>/ paths, sorted like ImageFolder', async () => {
    stubBrowser();
    const ds = fileListDataset([
      file('pics/cat/b.png', [1, 2, 3, 255, 4, 5, 6, 255]),
      file('pics/Dog/a.jpg', [7, 8, 9, 255, 10, 11, 12, 128]),
      file('pics/cat/a.png', [0, 0, 0, 255, 0, 0, 0, 255]),
      file('pics/readme.txt', [0]),
      file('pics/cat/x.txt', [0]),
    ]);
    expect(ds.classNames).toEqual(['Dog', 'cat']);
    expect(ds.files.map((f) => f.name)).toEqual(['a.jpg', 'a.png', 'b.png']);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1]);
    const s = await ds.get(2);
    expect(s.label).toBe(1);
    expect(s.image).toEqual({
      data: Uint8Array.from([1, 2, 3, 4, 5, 6]),
      height: 1,
      width: 2,
      channels: 3,
    });
  });

  it('imageUrlDataset fetches and decodes lazily; clear error without a browser', async () => {
    const fetchStub = vi.fn(
      async (url: string) =>
        new Response(Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 255]), {
          status: url.endsWith('404') ? 404 : 200,
        }),
    );
    const ds = imageUrlDataset(
      [
        { url: 'https://x/a.png', label: 1 },
        { url: 'https://x/404', label: 0 },
      ],
      { channels: 1, fetch: fetchStub as unknown as typeof fetch },
    );
    await expect(ds.get(0)).rejects.toThrow(/needs createImageBitmap and OffscreenCanvas/);
    stubBrowser();
    const s = await ds.get(0);
    expect(Array.from(s.image.data)).toEqual([255, 0]);
    await expect(ds.get(1)).rejects.toThrow(/https:\/\/x\/404: HTTP 404/);
  });
});
