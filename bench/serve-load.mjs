// Load figures for `convkit serve` (issue 13): throughput and p50 / p99 latency at 32 and 128
// connections, with micro-batching (--max-batch 32) and without (--max-batch 1), for LeNet-5
// (28x28x1) and the CIFAR ResNet-20 (32x32, one channel here: trained on synthetic shapes).
// Loopback only. Run after `pnpm --filter @convkit/server... build`:
//   node bench/serve-load.mjs            (SERVE_SECONDS per run, default 10; SERVE_MODELS=lenet5)
// Each cell is served by every engine of SERVE_ENGINES (default tfjs,onnxruntime): `convkit serve
// --engine tfjs` on the wasm backend (its default threads: every core), or `--engine onnxruntime` (onnxruntime-node,
// every core).
// Also measures, for the same checkpoint, raw in-process inference (bench/serve-raw.cjs: the
// same wasm backend, forward + softmax + read-back, batch 1 and 32, no HTTP) and PyTorch's
// raw inference of the same architectures (bench/serve_pytorch.py, Debian's torch with
// OpenBLAS, 1 thread as the wasm backend has, and 2), and writes bench/SERVE.md with the ratios
// and the CPU model (lscpu). SERVE_OUT=- prints instead of writing.
// Speed is measured here, never asserted in tests.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const engines = (process.env.SERVE_ENGINES ?? 'tfjs,onnxruntime').split(',');

function png(side) {
  const image = new PNG({ width: side, height: side });
  for (let i = 0; i < side * side * 4; i++) image.data[i] = (i * 37) % 256;
  return PNG.sync.write(image);
}

async function serve(dir, maxBatch, engine) {
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
      '--engine',
      engine,
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
const cells = [];
const raw = {};
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
    raw[model] = JSON.parse(
      execFileSync(
        process.execPath,
        [join(root, 'bench', 'serve-raw.cjs'), dir, String(Math.max(1, seconds / 2))],
        {
          encoding: 'utf8',
        },
      ),
    );
    console.error(`raw in-process ${model}: ${JSON.stringify(raw[model])}`);
    const body = png(sizes[model]);
    for (const [engine, maxBatch, connections] of engines.flatMap((e) =>
      [1, 32].flatMap((b) => [32, 128].map((c) => [e, b, c])),
    )) {
      const { child, url } = await serve(dir, maxBatch, engine);
      const options = {
        url: `${url}/v1/models/m/predict?topK=1`,
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body,
        connections,
      };
      await autocannon({ ...options, duration: 1 });
      const r = await autocannon({ ...options, duration: seconds });
      cells.push({ model, engine, maxBatch, connections, served: r.requests.average, r });
      rows.push(
        `| ${model} | ${engine} | ${maxBatch} | ${connections} | ${r.requests.average.toFixed(1)} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors + r.timeouts} | ${r.non2xx} |`,
      );
      console.error(rows.at(-1));
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const blas = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const torch = {};
for (const threads of [1, 2]) {
  torch[threads] = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [join(root, 'bench', 'serve_pytorch.py'), String(threads), String(Math.max(1, seconds / 2))],
      {
        encoding: 'utf8',
        env: { ...process.env, ...(existsSync(blas) ? { LD_LIBRARY_PATH: blas } : {}) },
      },
    ),
  );
  console.error(`pytorch ${threads} thread(s): ${JSON.stringify(torch[threads])}`);
}
const cpu =
  /Model name:\s*(.*)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1] ?? 'unknown';
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const lines = [
  '# Serving throughput (`node bench/serve-load.mjs`)',
  '',
  `CPU: ${cpu} (${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores), Node ${process.version}, convkit engines ${engines.join(', ')} (tfjs: the wasm backend, ${raw[models[0]]?.device ?? 'wasm'}; onnxruntime: onnxruntime-node, every core; raw convkit figures are the wasm backend's), torch ${torch[1].torch}${existsSync(blas) ? ' with OpenBLAS' : ''}; ${new Date().toISOString().slice(0, 10)}.`,
  `Each served cell: autocannon over 127.0.0.1 for ${seconds} s after a 1 s warm-up, one PNG per request (decoded, resized, normalized by the server); raw figures: ${Math.max(1, seconds / 2)} s each.`,
  'Served and raw numbers come from processes run one after another; on a machine shared with other jobs they move by tens of percent between runs, so compare ratios, not absolute figures, and rerun on a quiet machine for the long figures.',
  '',
  '| model | engine | max batch | connections | served images/s | p50 ms | p99 ms | errors | raw convkit b1 / b32 images/s | served / raw b32 | PyTorch 1 thread b1 / b32 | served / PyTorch-1t b32 | PyTorch 2 threads b32 |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...cells.map(({ model, engine, maxBatch, connections, served, r }) => {
    const rb = raw[model];
    const t1 = torch[1];
    const t2 = torch[2];
    return `| ${model} | ${engine} | ${maxBatch} | ${connections} | ${f(served)} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors + r.timeouts + r.non2xx} | ${f(rb.batch1)} / ${f(rb.batch32)} | ${(served / rb.batch32).toFixed(2)} | ${f(t1[`${model}.batch1`])} / ${f(t1[`${model}.batch32`])} | ${(served / t1[`${model}.batch32`]).toFixed(2)} | ${f(t2[`${model}.batch32`])} |`;
  }),
  '',
];
const text = lines.join('\n');
if (process.env.SERVE_OUT === '-') console.log(text);
else {
  writeFileSync(process.env.SERVE_OUT ?? join(root, 'bench', 'SERVE.md'), text);
  console.log(text);
}
