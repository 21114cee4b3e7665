import { writeAll, writeFileAtomic } from '@convkit/backend';
import { idxDataset, readIdxFile } from './idx';
import type { InMemoryDataset } from './in-memory-dataset';
import { env, nodeCrypto, nodeFs, nodeOs, nodePath } from './internal/node';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** The official file names (github.com/zalandoresearch/fashion-mnist, README "Get the Data"). */
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

/** Where Zalando Research serves the files (the links of the official README). */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/**
 * SHA-256 of the official `.gz` files (the README publishes MD5s: 8d4fb7e6..., 25c81989...,
 * bef4ecab..., bb300cfd...; these SHA-256 values are the ones independent public download
 * scripts check). Debian's `dataset-fashion-mnist` re-compresses the files, so its `.gz` bytes
 * (and hashes) differ while the decompressed contents are the same; local files are not
 * hash-checked, only downloads.
 */
export const FASHION_MNIST_SHA256: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte.gz': '08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc',
  'train-labels-idx1-ubyte.gz': 'b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc',
  't10k-images-idx3-ubyte.gz': '78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229',
  't10k-labels-idx1-ubyte.gz': '42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf',
};

/** Where Debian's `dataset-fashion-mnist` installs the files. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export interface DownloadFashionMnistOptions {
  /** Target directory (default: the cache, `~/.cache/convkit/fashion-mnist`). */
  dir?: string;
  /** Base URL the four file names are appended to (default `FASHION_MNIST_URL`). */
  baseUrl?: string;
  /** Expected SHA-256 per file name (default `FASHION_MNIST_SHA256`). */
  checksums?: Readonly<Record<string, string>>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface LoadFashionMnistOptions extends Omit<DownloadFashionMnistOptions, 'dir'> {
  /** 'train' (60000 images) or 'test' (10000). Default 'train'. */
  split?: 'train' | 'test';
  /** A directory holding the files; when given, only it is searched. */
  path?: string;
  /** Download the files into the cache (or `path`) when they are not found. Default false. */
  download?: boolean;
  /** The cache directory (default `$XDG_CACHE_HOME/convkit/fashion-mnist`, else `~/.cache/...`). */
  cacheDir?: string;
  /** The system directory searched last (default `FASHION_MNIST_SYSTEM_DIR`; null skips it). */
  systemDir?: string | null;
}

/** The default cache directory for Fashion-MNIST. */
export async function fashionMnistCacheDir(): Promise<string> {
  const path = await nodePath();
  const os = await nodeOs();
  const base = env('XDG_CACHE_HOME') || path.join(os.homedir(), '.cache');
  return path.join(base, 'convkit', 'fashion-mnist');
}

async function exists(file: string): Promise<boolean> {
  const fs = await nodeFs();
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The path of `name` (gzipped) or of its uncompressed twin in `dir`, or null. */
async function findFile(dir: string, name: string): Promise<string | null> {
  const path = await nodePath();
  for (const candidate of [name, name.replace(/\.gz$/, '')]) {
    const full = path.join(dir, candidate);
    if (await exists(full)) return full;
  }
  return null;
}

async function findSplit(dir: string, split: 'train' | 'test') {
  const files = FASHION_MNIST_FILES[split];
  const images = await findFile(dir, files.images);
  const labels = await findFile(dir, files.labels);
  return images && labels ? { images, labels } : null;
}

async function sha256File(file: string): Promise<string> {
  const fs = await nodeFs();
  const crypto = await nodeCrypto();
  return crypto
    .createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/**
 * Node: download the four official files into `dir`, each streamed into a temporary file
 * while its SHA-256 is computed, then renamed into place (atomic: a file under its final name
 * is always complete and verified). A mismatch deletes the temporary file and throws, naming
 * the file, the expected and the received hash. Files already present with the right hash are
 * kept. Returns the directory.
 */
export async function downloadFashionMnist(
  options: DownloadFashionMnistOptions = {},
): Promise<string> {
  const fs = await nodeFs();
  const path = await nodePath();
  const crypto = await nodeCrypto();
  const dir = options.dir ?? (await fashionMnistCacheDir());
  const baseUrl = options.baseUrl ?? FASHION_MNIST_URL;
  const checksums = options.checksums ?? FASHION_MNIST_SHA256;
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new Error('downloadFashionMnist: no fetch available');
  await fs.mkdir(dir, { recursive: true });
  const names = [
    FASHION_MNIST_FILES.train.images,
    FASHION_MNIST_FILES.train.labels,
    FASHION_MNIST_FILES.test.images,
    FASHION_MNIST_FILES.test.labels,
  ];
  for (const name of names) {
    const expected = checksums[name]?.toLowerCase();
    if (!expected) throw new Error(`downloadFashionMnist: no SHA-256 given for ${name}`);
    const dest = path.join(dir, name);
    if ((await exists(dest)) && (await sha256File(dest)) === expected) continue;
    const url = new URL(name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
    let response: Response;
    try {
      response = await doFetch(url);
    } catch (error) {
      throw new Error(`downloadFashionMnist: cannot fetch ${url}: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) {
      throw new Error(
        `downloadFashionMnist: ${url} answered HTTP ${response.status} ${response.statusText}`,
      );
    }
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    // Throwing inside the writer discards the temporary file: a mismatch never lands.
    await writeFileAtomic(dest, async (handle) => {
      const hash = crypto.createHash('sha256');
      for await (const chunk of body) {
        hash.update(chunk);
        await writeAll(handle, chunk);
      }
      const received = hash.digest('hex');
      if (received !== expected) {
        throw new Error(
          `downloadFashionMnist: SHA-256 mismatch for ${name} (from ${url}): expected ${expected}, received ${received}; the download was discarded`,
        );
      }
    });
  }
  return dir;
}

/**
 * Node: Fashion-MNIST as an `InMemoryDataset` of `[N, 28, 28, 1]` uint8 images (scaled to
 * [0, 1] by the loader) with `FASHION_MNIST_CLASSES`. The files (gzipped or not) are looked
 * up in `path` if given, else in `$CONVKIT_DATA/fashion-mnist`, `$CONVKIT_DATA`, the cache
 * directory and `/usr/share/datasets/fashion-mnist`; with `download: true` missing files are
 * downloaded (and verified) into the cache. The error when nothing is found says how to get
 * the data.
 */
export async function loadFashionMnist(
  options: LoadFashionMnistOptions = {},
): Promise<InMemoryDataset> {
  const path = await nodePath();
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new Error(
      `loadFashionMnist: split must be 'train' or 'test', received ${JSON.stringify(split)}`,
    );
  }
  const cacheDir = options.cacheDir ?? (await fashionMnistCacheDir());
  const dataRoot = env('CONVKIT_DATA');
  const candidates: string[] = [];
  if (options.path) {
    candidates.push(options.path);
  } else {
    if (dataRoot) candidates.push(path.join(dataRoot, 'fashion-mnist'), dataRoot);
    candidates.push(cacheDir);
    const systemDir =
      options.systemDir === undefined ? FASHION_MNIST_SYSTEM_DIR : options.systemDir;
    if (systemDir) candidates.push(systemDir);
  }
  let found: { images: string; labels: string } | null = null;
  for (const dir of candidates) {
    found = await findSplit(dir, split);
    if (found) break;
  }
  if (!found && options.download) {
    const dir = await downloadFashionMnist({ ...options, dir: options.path ?? cacheDir });
    found = await findSplit(dir, split);
  }
  if (!found) {
    const files = FASHION_MNIST_FILES[split];
    const searched = candidates.map((d) => `  - ${d}`);
    if (!options.path && !dataRoot)
      searched.unshift('  - $CONVKIT_DATA/fashion-mnist (CONVKIT_DATA is not set)');
    throw new Error(
      [
        `Fashion-MNIST (${split}) not found: looked for ${files.images} and ${files.labels} (or uncompressed) in`,
        ...searched,
        'Get the data in one of these ways:',
        `  - Debian / Ubuntu: apt-get install dataset-fashion-mnist (installs into ${FASHION_MNIST_SYSTEM_DIR})`,
        '  - put the four files in a directory and set CONVKIT_DATA=<that directory> (or pass { path })',
        `  - let convkit download them: loadFashionMnist({ split: '${split}', download: true }) (from ${options.baseUrl ?? FASHION_MNIST_URL}, SHA-256 checked, into ${options.path ?? cacheDir})`,
      ].join('\n'),
    );
  }
  const [images, labels] = await Promise.all([
    readIdxFile(found.images),
    readIdxFile(found.labels),
  ]);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(
      `${found.images}: expected Fashion-MNIST images [N, 28, 28], received [${images.dims}]`,
    );
  }
  const dataset = idxDataset(images, labels, {
    imagesName: found.images,
    labelsName: found.labels,
    classNames: FASHION_MNIST_CLASSES,
  });
  const bad = dataset.labels.findIndex((l) => l < 0 || l > 9);
  if (bad >= 0)
    throw new Error(`${found.labels}: label ${dataset.labels[bad]} at ${bad} is outside 0..9`);
  return dataset;
}
