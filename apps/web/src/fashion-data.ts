/**
 * Fashion-MNIST as served by the app (public/data/fashion-mnist/, prepared from Debian's
 * dataset-fashion-mnist by scripts/prepare-data.mjs): fetched, gunzipped and parsed with
 * @convkit/data's IDX reader. Images stay uint8 (0..255, row-major 28x28): a batch is
 * converted when it is built, not the whole 47 MB training set at once.
 */
import { gunzipBytes, parseIdx } from '@convkit/data';

export interface FashionSplit {
  images: Uint8Array;
  labels: Uint8Array;
}

async function fetchIdx(base: string, name: string) {
  const response = await fetch(new URL(name, base));
  if (!response.ok || response.headers.get('content-type')?.startsWith('text/html')) {
    throw new Error(
      `Fashion-MNIST: ${name} answered HTTP ${response.status} (${response.headers.get('content-type')}); run \`pnpm --filter @convkit/web prepare-data\` (it copies Debian's dataset-fashion-mnist into public/data)`,
    );
  }
  // Served gunzipped (see scripts/prepare-data.mjs); a gzipped copy is undone here too.
  const bytes = await gunzipBytes(new Uint8Array(await response.arrayBuffer()), { name });
  return parseIdx(bytes, name);
}

async function split(base: string, prefix: string): Promise<FashionSplit> {
  const [images, labels] = await Promise.all([
    fetchIdx(base, `${prefix}-images-idx3-ubyte.idx`),
    fetchIdx(base, `${prefix}-labels-idx1-ubyte.idx`),
  ]);
  const n = images.dims[0];
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(
      `Fashion-MNIST: ${prefix} images have shape [${images.dims}]; expected [N, 28, 28]`,
    );
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new Error(
      `Fashion-MNIST: ${prefix} has ${n} images but labels of shape [${labels.dims}]`,
    );
  }
  if (!(images.data instanceof Uint8Array) || !(labels.data instanceof Uint8Array)) {
    throw new Error(`Fashion-MNIST: ${prefix} files are not unsigned-byte IDX files`);
  }
  return { images: images.data, labels: labels.data };
}

export async function loadFashionMnist(base: string) {
  const [train, test] = await Promise.all([split(base, 'train'), split(base, 't10k')]);
  return { train, test };
}
