import { checkIndex, type Dataset, type Image, type LabeledImage } from './dataset';
import { nodeFs, nodePath } from './internal/node';
import { checkChannels, compareCodePoints, fromRgba } from './internal/pixels';

/** File extensions the Node decoders read (compared lower-cased). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

export interface ImageFolderOptions {
  /** Output channels: 1 (grayscale), 3 (RGB, default, as torchvision's loader) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
  /** Lower-case extensions to include (default `IMAGE_EXTENSIONS`). */
  extensions?: readonly string[];
}

/**
 * Node: decode PNG (pngjs) or JPEG (jpeg-js) bytes, chosen by their magic numbers, to a uint8
 * HWC image with `channels` channels (grayscale, RGB and RGBA inputs are converted; 16-bit PNGs
 * are reduced to 8 bits). `name` appears in errors.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: { channels?: 1 | 3 | 4; name?: string } = {},
): Promise<Image> {
  const channels = options.channels ?? 3;
  const name = options.name ?? 'image';
  checkChannels(channels, `decodeImage(${name})`);
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const mod: any = await import('pngjs');
      const PNG = mod.PNG ?? mod.default?.PNG;
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return fromRgba(png.data, png.width, png.height, channels);
    }
    if (isJpeg) {
      const mod: any = await import('jpeg-js');
      const decode = mod.decode ?? mod.default?.decode;
      const jpeg = decode(bytes, { useTArray: true, formatAsRGBA: true });
      return fromRgba(jpeg.data, jpeg.width, jpeg.height, channels);
    }
  } catch (error) {
    throw new Error(`${name}: cannot decode: ${(error as Error).message}`);
  }
  throw new Error(`${name}: not a PNG or JPEG file (unrecognized magic bytes)`);
}

export interface ImageFolderSample {
  path: string;
  label: number;
}

/**
 * Node: a dataset over `root/<class>/**\/<image>`, laid out as torchvision's `ImageFolder`:
 * classes are the sub-folders of `root` sorted by code point, files are found recursively
 * (symlinks followed) and sorted the same way, and images are read and decoded lazily in
 * `get`. Images may differ in size: add a `resize` / crop transform before batching.
 */
export class ImageFolderDataset implements Dataset<LabeledImage> {
  readonly root: string;
  readonly classNames: readonly string[];
  readonly classToIndex: Readonly<Record<string, number>>;
  readonly samples: readonly ImageFolderSample[];
  readonly labels: Int32Array;
  readonly channels: 1 | 3 | 4;

  private constructor(
    root: string,
    classNames: string[],
    samples: ImageFolderSample[],
    channels: 1 | 3 | 4,
  ) {
    this.root = root;
    this.classNames = classNames;
    this.classToIndex = Object.fromEntries(classNames.map((c, i) => [c, i]));
    this.samples = samples;
    this.labels = Int32Array.from(samples, (s) => s.label);
    this.channels = channels;
  }

  get length(): number {
    return this.samples.length;
  }

  /** Scan `root` (see the class comment). */
  static async create(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
    const fs = await nodeFs();
    const path = await nodePath();
    const channels = options.channels ?? 3;
    checkChannels(channels, 'imageFolderDataset');
    const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    let entries: string[];
    try {
      entries = await fs.readdir(root);
    } catch (error) {
      throw new Error(`imageFolderDataset: cannot read ${root}: ${(error as Error).message}`);
    }
    const classNames: string[] = [];
    for (const entry of entries) {
      if ((await fs.stat(path.join(root, entry))).isDirectory()) classNames.push(entry);
    }
    classNames.sort(compareCodePoints);
    if (classNames.length === 0) {
      throw new Error(
        `imageFolderDataset: no class folders in ${root} (expected root/<class>/<image>)`,
      );
    }
    const samples: ImageFolderSample[] = [];
    const empty: string[] = [];
    for (let label = 0; label < classNames.length; label++) {
      const dirs: { dir: string; files: string[] }[] = [];
      const walk = async (dir: string) => {
        const files: string[] = [];
        for (const name of await fs.readdir(dir)) {
          const full = path.join(dir, name);
          const stat = await fs.stat(full);
          if (stat.isDirectory()) await walk(full);
          else if (extensions.some((e) => name.toLowerCase().endsWith(e))) files.push(name);
        }
        dirs.push({ dir, files });
      };
      await walk(path.join(root, classNames[label]));
      dirs.sort((a, b) => compareCodePoints(a.dir, b.dir));
      const before = samples.length;
      for (const { dir, files } of dirs) {
        files.sort(compareCodePoints);
        for (const f of files) samples.push({ path: path.join(dir, f), label });
      }
      if (samples.length === before) empty.push(classNames[label]);
    }
    if (empty.length > 0) {
      throw new Error(
        `imageFolderDataset: no image files in class folder(s) ${empty.join(', ')} of ${root} ` +
          `(extensions ${extensions.join(', ')})`,
      );
    }
    return new ImageFolderDataset(root, classNames, samples, channels);
  }

  async get(index: number): Promise<LabeledImage> {
    checkIndex('ImageFolderDataset', index, this.length);
    const { path, label } = this.samples[index];
    const fs = await nodeFs();
    const bytes = await fs.readFile(path);
    return { image: await decodeImage(bytes, { channels: this.channels, name: path }), label };
  }
}

/** Node: `ImageFolderDataset.create(root, options)`. */
export function imageFolderDataset(
  root: string,
  options?: ImageFolderOptions,
): Promise<ImageFolderDataset> {
  return ImageFolderDataset.create(root, options);
}
