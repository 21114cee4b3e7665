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
  /** Caps on each image's dimensions, checked before decoding (see `decodeImage`). */
  limits?: ImageLimits;
}

/** Default cap on each side of an image, checked from its header before decoding. */
export const MAX_IMAGE_SIDE = 16384;
/** Default cap on an image's pixels (width x height; 40 MP is 160 MB of RGBA), checked before decoding. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export interface ImageLimits {
  /** Largest width or height accepted (default MAX_IMAGE_SIDE). */
  maxSide?: number;
  /** Largest width x height accepted (default MAX_IMAGE_PIXELS). */
  maxPixels?: number;
}

/** Width and height from a PNG's IHDR or a JPEG's frame header (SOFn), or null when not found. */
function declaredSize(bytes: Uint8Array, isPng: boolean): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng) {
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or start of scan
    const length = view.getUint16(i + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) {
      if (i + 9 > bytes.length) return null;
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    i += 2 + length;
  }
  return null;
}

function checkSize(
  size: { width: number; height: number },
  limits: Required<ImageLimits>,
  name: string,
): void {
  const { width, height } = size;
  if (width === 0 || height === 0) {
    throw new Error(`${name}: the header declares a ${width}x${height} image, which has no pixels`);
  }
  if (width > limits.maxSide || height > limits.maxSide) {
    throw new Error(
      `${name}: the header declares a ${width}x${height} image; a side exceeds the limit of ${limits.maxSide} px (option maxSide)`,
    );
  }
  if (width * height > limits.maxPixels) {
    throw new Error(
      `${name}: the header declares a ${width}x${height} image, ${width * height} pixels, over the limit of ${limits.maxPixels} (option maxPixels)`,
    );
  }
}

/**
 * Node: decode PNG (pngjs) or JPEG (jpeg-js) bytes, chosen by their magic numbers, to a uint8
 * HWC image with `channels` channels (grayscale, RGB and RGBA inputs are converted; 16-bit PNGs
 * are reduced to 8 bits). The dimensions are read from the header first and refused over
 * `maxSide` / `maxPixels` before anything is decoded. `name` appears in errors.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: { channels?: 1 | 3 | 4; name?: string } & ImageLimits = {},
): Promise<Image> {
  const channels = options.channels ?? 3;
  const name = options.name ?? 'image';
  checkChannels(channels, `decodeImage(${name})`);
  const limits = {
    maxSide: options.maxSide ?? MAX_IMAGE_SIDE,
    maxPixels: options.maxPixels ?? MAX_IMAGE_PIXELS,
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`decodeImage(${name}): ${key} must be a positive integer, received ${value}`);
    }
  }
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isPng || isJpeg) {
    const size = declaredSize(bytes, isPng);
    if (size) checkSize(size, limits, name);
    else if (isPng)
      throw new Error(`${name}: cannot decode: not a valid PNG (no IHDR chunk where it belongs)`);
  }
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
      // jpeg-js's own caps too, in case the frame header was not found before decoding.
      const jpeg = decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: limits.maxPixels / 1e6,
        maxMemoryUsageInMB: Math.max(64, Math.ceil((limits.maxPixels * 8) / 2 ** 20)),
      });
      checkSize(jpeg, limits, name);
      return fromRgba(jpeg.data, jpeg.width, jpeg.height, channels);
    }
  } catch (error) {
    if ((error as Error).message.startsWith(`${name}: the header`)) throw error;
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
    private readonly limits: ImageLimits,
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
      let isDirectory: boolean;
      try {
        isDirectory = (await fs.stat(path.join(root, entry))).isDirectory();
      } catch (error) {
        throw new Error(
          `imageFolderDataset: cannot follow ${path.join(root, entry)}: ${(error as Error).message}`,
        );
      }
      if (isDirectory) classNames.push(entry);
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
      // Symlinks are followed; a directory that leads back to one being walked (a cycle) or a
      // link that cannot be resolved (ELOOP) is refused naming the path.
      const walk = async (dir: string, ancestors: Map<string, string>) => {
        const files: string[] = [];
        for (const name of await fs.readdir(dir)) {
          const full = path.join(dir, name);
          const stat = await statFollowing(full);
          if (stat.isDirectory()) {
            const real = await fs.realpath(full);
            const earlier = ancestors.get(real);
            if (earlier !== undefined) {
              throw new Error(`imageFolderDataset: symlink loop: ${full} leads back to ${earlier}`);
            }
            await walk(full, new Map(ancestors).set(real, full));
          } else if (extensions.some((e) => name.toLowerCase().endsWith(e))) files.push(name);
        }
        dirs.push({ dir, files });
      };
      const statFollowing = async (full: string) => {
        try {
          return await fs.stat(full);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new Error(
            `imageFolderDataset: cannot follow ${full}: ${code === 'ELOOP' ? 'symlink loop (ELOOP)' : (error as Error).message}`,
          );
        }
      };
      const classDir = path.join(root, classNames[label]);
      await walk(classDir, new Map([[await fs.realpath(classDir), classDir]]));
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
    return new ImageFolderDataset(root, classNames, samples, channels, options.limits ?? {});
  }

  async get(index: number): Promise<LabeledImage> {
    checkIndex('ImageFolderDataset', index, this.length);
    const { path, label } = this.samples[index];
    const fs = await nodeFs();
    const bytes = await fs.readFile(path);
    return {
      image: await decodeImage(bytes, { ...this.limits, channels: this.channels, name: path }),
      label,
    };
  }
}

/** Node: `ImageFolderDataset.create(root, options)`. */
export function imageFolderDataset(
  root: string,
  options?: ImageFolderOptions,
): Promise<ImageFolderDataset> {
  return ImageFolderDataset.create(root, options);
}
