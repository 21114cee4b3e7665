#!/usr/bin/env node
// Prepares the static files the app serves (apps/web/public/, gitignored, never committed):
//   public/data/fashion-mnist/*.idx the four IDX files of Debian's dataset-fashion-mnist, gunzipped
//                                   (static servers such as vite's serve a `.gz` file with
//                                   Content-Encoding: gzip, which browsers then undo or reject)
//   public/wasm/*.wasm              tfjs-backend-wasm's binaries (the wasm backend loads them)
// Each IDX file is checked (gunzips, parses with @convkit/data's parseIdx, expected dimensions)
// before it is copied; run after `pnpm build` (it imports the built @convkit/data). Idempotent:
// files already there with the same size are kept.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseIdx } from '@convkit/data';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const dataDir = join(appDir, 'public', 'data', 'fashion-mnist');
const wasmDir = join(appDir, 'public', 'wasm');

const FILES = {
  'train-images-idx3-ubyte.gz': [60000, 28, 28],
  'train-labels-idx1-ubyte.gz': [60000],
  't10k-images-idx3-ubyte.gz': [10000, 28, 28],
  't10k-labels-idx1-ubyte.gz': [10000],
};

function fail(message) {
  console.error(`prepare-data: ${message}`);
  process.exit(1);
}

function copyIfChanged(from, to) {
  if (existsSync(to) && statSync(to).size === statSync(from).size) return false;
  copyFileSync(from, to);
  return true;
}

mkdirSync(dataDir, { recursive: true });
// Earlier versions copied the .gz files themselves.
for (const name of readdirSync(dataDir)) if (name.endsWith('.gz')) rmSync(join(dataDir, name));
let copied = 0;
for (const [name, expected] of Object.entries(FILES)) {
  const from = join(sourceDir, name);
  if (!existsSync(from)) {
    fail(
      `${from} is missing. Install Debian's Fashion-MNIST: apt-get install -y dataset-fashion-mnist ` +
        '(or bash packages/tooling/bin/bootstrap.sh), or point FASHION_MNIST_DIR at a folder with the four .gz files.',
    );
  }
  const target = join(dataDir, name.replace(/\.gz$/, '.idx'));
  if (existsSync(target) && existsSync(`${target}.source-size`)) {
    if (readFileSync(`${target}.source-size`, 'utf8') === String(statSync(from).size)) continue;
  }
  let bytes;
  try {
    bytes = gunzipSync(readFileSync(from));
    // The app parses these files with the same parseIdx; refuse here what it would refuse there.
    const { dims } = parseIdx(bytes, 'gunzipped contents');
    if (dims.join('x') !== expected.join('x')) {
      throw new Error(`expected dimensions ${expected.join('x')}, found ${dims.join('x')}`);
    }
  } catch (error) {
    fail(`${from}: ${error.message}`);
  }
  writeFileSync(target, bytes);
  writeFileSync(`${target}.source-size`, String(statSync(from).size));
  copied++;
}

mkdirSync(wasmDir, { recursive: true });
const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
let binaries = 0;
for (const name of readdirSync(wasmDist)) {
  if (name.endsWith('.wasm') && copyIfChanged(join(wasmDist, name), join(wasmDir, name)))
    binaries++;
}
console.log(
  `prepare-data: Fashion-MNIST in ${dataDir} (${copied} copied), tfjs wasm binaries in ${wasmDir} (${binaries} copied)`,
);
