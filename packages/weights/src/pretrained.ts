import { importFs, importOptional, importPath, writeAll, writeFileAtomic } from '@convkit/backend';

/**
 * One of torchvision's pretrained checkpoints, with the metadata torchvision 0.14 publishes for
 * it (`torchvision.models.get_model_weights(name)`): URL, parameter count, ImageNet-1K
 * accuracy, preprocessing. torchvision publishes no full SHA-256: its file names carry the
 * first 8 hex digits of the file's SHA-256, which `torch.hub.load_state_dict_from_url(...,
 * check_hash=True)` verifies; `sha256Prefix` is that. ImageNet's category names are not
 * included (they come from WordNet / ImageNet, whose terms this package does not take on);
 * `numClasses` is 1000 and class i is ImageNet-1K's i-th synset in sorted order.
 */
export interface PretrainedWeights {
  /** The factory's name in torchvision (`resnet18`, `mobilenet_v2`, `vgg16_bn`). */
  model: string;
  /** torchvision's enum member (`IMAGENET1K_V1`, `IMAGENET1K_V2`). */
  weights: string;
  url: string;
  fileName: string;
  /** The first hex digits of the file's SHA-256 (from its name). */
  sha256Prefix: string;
  /** The full SHA-256, when known (none of torchvision's are published). */
  sha256?: string;
  numParams: number;
  /** ImageNet-1K validation accuracy (%), as torchvision reports it. */
  top1: number;
  top5: number;
  /** The evaluation crop `[H, W, C]` (the model accepts other sizes). */
  inputSize: readonly [number, number, number];
  /** The shorter side is resized to this before the center crop. */
  resizeSize: number;
  mean: readonly number[];
  std: readonly number[];
  numClasses: number;
  license: string;
}

const MEAN = Object.freeze([0.485, 0.456, 0.406]);
const STD = Object.freeze([0.229, 0.224, 0.225]);
const BASE = 'https://download.pytorch.org/models/';

/** [model, weights, file, params, top1, top5, resize] from torchvision 0.14's metadata. */
const TABLE: readonly [string, string, string, number, number, number, number][] = [
  ['resnet18', 'IMAGENET1K_V1', 'resnet18-f37072fd.pth', 11689512, 69.758, 89.078, 256],
  ['resnet34', 'IMAGENET1K_V1', 'resnet34-b627a593.pth', 21797672, 73.314, 91.42, 256],
  ['resnet50', 'IMAGENET1K_V1', 'resnet50-0676ba61.pth', 25557032, 76.13, 92.862, 256],
  ['resnet50', 'IMAGENET1K_V2', 'resnet50-11ad3fa6.pth', 25557032, 80.858, 95.434, 232],
  ['resnet101', 'IMAGENET1K_V1', 'resnet101-63fe2227.pth', 44549160, 77.374, 93.546, 256],
  ['resnet101', 'IMAGENET1K_V2', 'resnet101-cd907fc2.pth', 44549160, 81.886, 95.78, 232],
  ['resnet152', 'IMAGENET1K_V1', 'resnet152-394f9c45.pth', 60192808, 78.312, 94.046, 256],
  ['resnet152', 'IMAGENET1K_V2', 'resnet152-f82ba261.pth', 60192808, 82.284, 96.002, 232],
  ['alexnet', 'IMAGENET1K_V1', 'alexnet-owt-7be5be79.pth', 61100840, 56.522, 79.066, 256],
  ['vgg11', 'IMAGENET1K_V1', 'vgg11-8a719046.pth', 132863336, 69.02, 88.628, 256],
  ['vgg13', 'IMAGENET1K_V1', 'vgg13-19584684.pth', 133047848, 69.928, 89.246, 256],
  ['vgg16', 'IMAGENET1K_V1', 'vgg16-397923af.pth', 138357544, 71.592, 90.382, 256],
  ['vgg19', 'IMAGENET1K_V1', 'vgg19-dcbb9e9d.pth', 143667240, 72.376, 90.876, 256],
  ['vgg11_bn', 'IMAGENET1K_V1', 'vgg11_bn-6002323d.pth', 132868840, 70.37, 89.81, 256],
  ['vgg13_bn', 'IMAGENET1K_V1', 'vgg13_bn-abd245e5.pth', 133053736, 71.586, 90.374, 256],
  ['vgg16_bn', 'IMAGENET1K_V1', 'vgg16_bn-6c64b313.pth', 138365992, 73.36, 91.516, 256],
  ['vgg19_bn', 'IMAGENET1K_V1', 'vgg19_bn-c79401a0.pth', 143678248, 74.218, 91.842, 256],
  ['googlenet', 'IMAGENET1K_V1', 'googlenet-1378be20.pth', 6624904, 69.778, 89.53, 256],
  ['mobilenet_v2', 'IMAGENET1K_V1', 'mobilenet_v2-b0353104.pth', 3504872, 71.878, 90.286, 256],
  ['mobilenet_v2', 'IMAGENET1K_V2', 'mobilenet_v2-7ebf99e0.pth', 3504872, 72.154, 90.822, 232],
  ['squeezenet1_0', 'IMAGENET1K_V1', 'squeezenet1_0-b66bff10.pth', 1248424, 58.092, 80.42, 256],
  ['squeezenet1_1', 'IMAGENET1K_V1', 'squeezenet1_1-b8a52dc0.pth', 1235496, 58.178, 80.624, 256],
];

/** Every torchvision checkpoint this package knows (ImageNet-1K classifiers). */
export const TORCHVISION_WEIGHTS: readonly PretrainedWeights[] = Object.freeze(
  TABLE.map(([model, weights, fileName, numParams, top1, top5, resizeSize]) =>
    Object.freeze({
      model,
      weights,
      url: BASE + fileName,
      fileName,
      sha256Prefix: (/-([0-9a-f]{8})\.pth$/.exec(fileName) as RegExpExecArray)[1],
      numParams,
      top1,
      top5,
      inputSize: Object.freeze([224, 224, 3]) as readonly [number, number, number],
      resizeSize,
      mean: MEAN,
      std: STD,
      numClasses: 1000,
      license: 'BSD-3-Clause (torchvision)',
    }),
  ),
);

/**
 * The registry entry of a torchvision model (`'resnet18'`; torchvision's names, `vgg16_bn`,
 * `mobilenet_v2`) and weights (default `IMAGENET1K_V1`); an unknown name lists the known ones.
 */
export function torchvisionWeights(model: string, weights = 'IMAGENET1K_V1'): PretrainedWeights {
  const found = TORCHVISION_WEIGHTS.find((w) => w.model === model && w.weights === weights);
  if (found) return found;
  const models = [...new Set(TORCHVISION_WEIGHTS.map((w) => w.model))];
  if (!models.includes(model)) {
    throw new Error(
      `torchvisionWeights: unknown model ${JSON.stringify(model)}; known: ${models.join(', ')}`,
    );
  }
  const known = TORCHVISION_WEIGHTS.filter((w) => w.model === model).map((w) => w.weights);
  throw new Error(
    `torchvisionWeights: ${model} has no weights ${JSON.stringify(weights)}; known: ${known.join(', ')}`,
  );
}

/** What a download is checked against: a full SHA-256, or a prefix of it (torch.hub's rule). */
export interface WeightsSource {
  url: string;
  sha256?: string;
  sha256Prefix?: string;
}

/** The expected digest (or prefix), checked before anything is downloaded. */
function expectedDigest(source: WeightsSource): string {
  const { sha256, sha256Prefix } = source;
  const expected = sha256?.toLowerCase() ?? sha256Prefix?.toLowerCase();
  const valid = sha256 ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{8,64}$/;
  if (!expected || !valid.test(expected)) {
    throw new Error(
      `weights ${source.url}: expected a sha256 (64 hex digits) or a sha256Prefix (8 or more), received ${JSON.stringify(sha256 ?? sha256Prefix)}`,
    );
  }
  return expected;
}

function checkDigest(source: WeightsSource, actual: string): void {
  const { sha256 } = source;
  const expected = expectedDigest(source);
  const ok = sha256 ? actual === expected : actual.startsWith(expected);
  if (!ok) {
    throw new Error(
      `weights ${source.url}: SHA-256 mismatch: expected ${sha256 ? expected : `${expected}...`}, the download has ${actual}; the file was not kept`,
    );
  }
}

const hex = (bytes: ArrayBuffer | Uint8Array) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

export interface FetchWeightsOptions {
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Called with bytes received so far and the total when the server sends it. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/**
 * Download weights into memory and check their SHA-256 (Web Crypto, so it runs in a browser).
 * Use it for small files; in Node, `downloadWeights` streams to disk instead.
 */
export async function fetchWeights(
  source: WeightsSource,
  options: FetchWeightsOptions = {},
): Promise<Uint8Array> {
  expectedDigest(source);
  const response = await (options.fetch ?? fetch)(source.url);
  if (!response.ok) {
    throw new Error(
      `weights ${source.url}: HTTP ${response.status} ${response.statusText}`.trimEnd(),
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  options.onProgress?.(bytes.byteLength, bytes.byteLength);
  checkDigest(source, hex(await crypto.subtle.digest('SHA-256', bytes)));
  return bytes;
}

export interface DownloadWeightsOptions extends FetchWeightsOptions {
  /** The directory the file is kept in (created if missing). */
  dir: string;
  /** The file name in `dir` (default: the URL's last path segment). */
  fileName?: string;
}

type Crypto = typeof import('node:crypto');

/**
 * Download weights to `dir` in Node, streaming: each chunk is hashed (SHA-256) and written to a
 * temporary file, which is renamed into place only when the digest matches, so a failed or
 * tampered download leaves nothing behind. A file already in `dir` is re-hashed and reused when
 * it matches (else downloaded again). `file:` URLs are read from disk the same way. Returns the
 * file's path. The network is not reachable where convkit is tested: the tests serve files
 * from 127.0.0.1 and `file:` URLs.
 */
export async function downloadWeights(
  source: WeightsSource,
  options: DownloadWeightsOptions,
): Promise<string> {
  expectedDigest(source);
  const fs = await importFs();
  const { join } = await importPath();
  const { createHash } = await importOptional<Crypto>('node:crypto');
  const name =
    options.fileName ?? decodeURIComponent(new URL(source.url).pathname.split('/').pop() ?? '');
  if (!name || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new Error(`weights ${source.url}: cannot name a file after this URL; pass fileName`);
  }
  await fs.mkdir(options.dir, { recursive: true });
  const path = join(options.dir, name);
  const existing = await fs.stat(path).catch(() => null);
  if (existing?.isFile()) {
    const hash = createHash('sha256');
    for await (const chunk of (await fs.open(path)).createReadStream()) hash.update(chunk);
    try {
      checkDigest(source, hash.digest('hex'));
      return path;
    } catch {
      // A stale or damaged copy: download again below.
    }
  }
  const chunks = await openChunks(source.url, options.fetch ?? fetch);
  await writeFileAtomic(path, async (handle) => {
    const hash = createHash('sha256');
    let received = 0;
    try {
      for await (const chunk of chunks.stream) {
        hash.update(chunk);
        await writeAll(handle, chunk);
        received += chunk.byteLength;
        options.onProgress?.(received, chunks.total);
      }
    } catch (error) {
      throw new Error(
        `weights ${source.url}: the download failed after ${received} bytes: ${(error as Error).message}`,
      );
    }
    if (chunks.total !== undefined && received !== chunks.total) {
      throw new Error(
        `weights ${source.url}: truncated: the server announced ${chunks.total} bytes, ${received} arrived`,
      );
    }
    checkDigest(source, hash.digest('hex'));
  });
  return path;
}

async function openChunks(
  url: string,
  fetchFn: typeof fetch,
): Promise<{ stream: AsyncIterable<Uint8Array>; total: number | undefined }> {
  if (url.startsWith('file:')) {
    const fs = await importFs();
    const { fileURLToPath } = await importOptional<typeof import('node:url')>('node:url');
    const path = fileURLToPath(url);
    const handle = await fs.open(path).catch((error: Error) => {
      throw new Error(`weights ${url}: ${error.message}`);
    });
    const { size } = await handle.stat();
    return { stream: handle.createReadStream(), total: size };
  }
  const response = await fetchFn(url);
  if (!response.ok || !response.body) {
    throw new Error(`weights ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  const length = response.headers.get('content-length');
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const body = response.body;
  return {
    stream: (async function* () {
      const reader = body.getReader();
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) return;
          if (value) yield value;
        }
      } finally {
        reader.releaseLock();
      }
    })(),
    total: length !== null && !encoded && /^\d+$/.test(length) ? Number(length) : undefined,
  };
}
