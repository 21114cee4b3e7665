// Load figures for `convkit serve` (issue 13): throughput and p50 / p99 latency at 32 and 128
// connections, with micro-batching (--max-batch 32) and without (--max-batch 1), for LeNet-5
// (28x28x1) and the CIFAR ResNet-20 (32x32, one channel here: trained on synthetic shapes).
// Loopback only. Run after `pnpm --filter @convkit/server... build`:
//   node bench/serve-load.mjs            (SERVE_SECONDS per run, default 10; SERVE_MODELS=lenet5)
// Prints a Markdown table; speed is measured here, never asserted in tests.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'apps', 'server', 'dist', 'cli.js');
const require = createRequire(join(root, 'apps', 'server', 'package.json'));
const autocannon = require('autocannon');
const { PNG } = require('pngjs');
const seconds = Number(process.env.SERVE_SECONDS ?? 10);
const models = (process.env.SERVE_MODELS ?? 'lenet5,cifarResnet20').split(',');
const sizes = { lenet5: 28, cifarResnet20: 32 };

function png(side) {
  const image = new PNG({ width: side, height: side });
  for (let i = 0; i < side * side * 4; i++) image.data[i] = (i * 37) % 256;
  return PNG.sync.write(image);
}

async function serve(dir, maxBatch) {
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--model',
      `m=${dir}`,
      '--port',
      '0',
      '--max-batch',
      String(maxBatch),
      '--max-queue',
      '4096',
      '--backend',
      'wasm',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(err)));
  });
  return { child, url };
}

const work = mkdtempSync(join(tmpdir(), 'convkit-serve-bench-'));
const rows = [];
try {
  for (const model of models) {
    const dir = join(work, model);
    execFileSync(
      process.execPath,
      [
        cli,
        'train',
        '--model',
        model,
        '--dataset',
        'synthetic',
        '--image-size',
        String(sizes[model]),
        '--samples',
        '64',
        '--epochs',
        '1',
        '--steps',
        '1',
        '--batch-size',
        '16',
        '--validation-samples',
        '16',
        '--test-samples',
        '16',
        '--backend',
        'wasm',
        '--run-dir',
        dir,
        '--json',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const body = png(sizes[model]);
    for (const maxBatch of [1, 32]) {
      for (const connections of [32, 128]) {
        const { child, url } = await serve(dir, maxBatch);
        const options = {
          url: `${url}/v1/models/m/predict?topK=1`,
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body,
          connections,
        };
        await autocannon({ ...options, duration: 1 });
        const r = await autocannon({ ...options, duration: seconds });
        rows.push(
          `| ${model} | ${maxBatch} | ${connections} | ${r.requests.average.toFixed(1)} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors + r.timeouts} | ${r.non2xx} |`,
        );
        console.error(rows.at(-1));
        child.kill('SIGTERM');
        await new Promise((resolve) => child.on('exit', resolve));
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`convkit serve, wasm backend, ${seconds} s per run, loopback\n`);
console.log('| model | max batch | connections | images/s | p50 ms | p99 ms | errors | non-2xx |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
