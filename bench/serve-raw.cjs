// Raw in-process inference throughput of a checkpoint (the denominator of the serving
// efficiency): the same wasm backend and the same forward + softmax + read-back as the server's
// batches (apps/server/src/inference.ts), batch 1 and batch 32, no HTTP, no decoding.
//   node bench/serve-raw.cjs <checkpoint-or-run-dir> <seconds>   -> one JSON line on stdout
// Resolves the workspace packages from apps/server (their CommonJS builds).
const { createRequire } = require('node:module');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const app = createRequire(join(__dirname, '..', 'apps', 'server', 'package.json'));
const tf = app('@tensorflow/tfjs-core');
const { selectBackend } = app('@convkit/backend');
const { loadCheckpoint } = app('@convkit/train');
const { ZOO_MODULE_TYPES } = app('@convkit/zoo');

async function main() {
  const [dir, secondsText] = process.argv.slice(2);
  const seconds = Number(secondsText ?? 2);
  const report = await selectBackend({ backend: 'wasm' });
  const checkpoint = ['checkpoint/best', 'checkpoint/last', '.']
    .map((d) => join(dir, d))
    .find((d) => existsSync(join(d, 'checkpoint.json')));
  const { model, manifest } = await loadCheckpoint(checkpoint, {
    moduleTypes: ZOO_MODULE_TYPES,
    restoreRandom: false,
  });
  model.eval();
  const [h, w, c] = manifest.extra.inputSize;
  const result = { device: report.device };
  for (const batch of [1, 32]) {
    const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 1);
    const step = async () => {
      const p = tf.tidy(() => tf.softmax(model.forward(x)));
      await p.data();
      p.dispose();
    };
    for (let i = 0; i < 3; i++) await step();
    let images = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await step();
      images += batch;
    }
    result[`batch${batch}`] = images / ((performance.now() - start) / 1000);
    x.dispose();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
