import { checkIndex, type Dataset, type Image, type LabeledImage } from './dataset';
import { checkChannels, compareCodePoints, fromRgba } from './internal/pixels';

// Browser sources: decoded by the browser (`createImageBitmap` + `OffscreenCanvas`), so any
// format the browser reads works. Nothing here touches Node modules; nothing in the Node
// sources is imported from here.

/** Browser: decode an image `Blob` (PNG, JPEG, WebP, ...) to a uint8 HWC image. */
export async function decodeImageBlob(blob: Blob, channels: 1 | 3 | 4 = 3): Promise<Image> {
  checkChannels(channels, 'decodeImageBlob');
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new Error(
      'decodeImageBlob needs createImageBitmap and OffscreenCanvas (a browser or worker); in Node use imageFolderDataset / decodeImage',
    );
  }
  const bitmap = await createImageBitmap(blob, {
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'none',
  });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('decodeImageBlob: no 2d context on OffscreenCanvas');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return fromRgba(data, bitmap.width, bitmap.height, channels);
  } finally {
    bitmap.close();
  }
}

export interface UrlImage {
  url: string;
  label: number;
}

/** Browser: images fetched from URLs and decoded lazily in `get`. */
export function imageUrlDataset(
  items: readonly UrlImage[],
  options: { channels?: 1 | 3 | 4; classNames?: readonly string[]; fetch?: typeof fetch } = {},
): Dataset<LabeledImage> & { labels: Int32Array } {
  const doFetch = options.fetch ?? fetch;
  return {
    length: items.length,
    classNames: options.classNames,
    labels: Int32Array.from(items, (i) => i.label),
    async get(index: number) {
      checkIndex('imageUrlDataset', index, items.length);
      const { url, label } = items[index];
      const response = await doFetch(url);
      if (!response.ok) throw new Error(`imageUrlDataset: ${url}: HTTP ${response.status}`);
      return { image: await decodeImageBlob(await response.blob(), options.channels ?? 3), label };
    },
  };
}

/**
 * Browser: an ImageFolder from files picked with `<input type="file" webkitdirectory>` (or
 * dropped): each file's class is the folder directly under the picked root in its
 * `webkitRelativePath` ("root/<class>/.../img.png"); classes and files are sorted by code
 * point, as torchvision's `ImageFolder`.
 */
export function fileListDataset(
  files: Iterable<File>,
  options: { channels?: 1 | 3 | 4; extensions?: readonly string[] } = {},
): Dataset<LabeledImage> & { labels: Int32Array; classNames: readonly string[]; files: File[] } {
  const extensions = (options.extensions ?? ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp']).map(
    (e) => e.toLowerCase(),
  );
  const entries: { file: File; path: string; cls: string }[] = [];
  for (const file of files) {
    const path = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const parts = path.split('/');
    if (parts.length < 3) continue; // root/class/file at least
    if (!extensions.some((e) => path.toLowerCase().endsWith(e))) continue;
    entries.push({ file, path, cls: parts[1] });
  }
  const classNames = [...new Set(entries.map((e) => e.cls))].sort(compareCodePoints);
  if (classNames.length === 0) {
    throw new Error('fileListDataset: no images found under root/<class>/ in the given files');
  }
  const index = new Map(classNames.map((c, i) => [c, i]));
  entries.sort(
    (a, b) => index.get(a.cls)! - index.get(b.cls)! || compareCodePoints(a.path, b.path),
  );
  const labels = Int32Array.from(entries, (e) => index.get(e.cls)!);
  return {
    length: entries.length,
    classNames,
    labels,
    files: entries.map((e) => e.file),
    async get(i: number) {
      checkIndex('fileListDataset', i, entries.length);
      return {
        image: await decodeImageBlob(entries[i].file, options.channels ?? 3),
        label: labels[i],
      };
    },
  };
}
