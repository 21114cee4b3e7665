// Runs every benchmark worker on this machine, one after another, and writes RESULTS.md: LeNet-5
// training and inference and a 56x56x64 3x3 convolution on convkit's Node default backend, tfjs
// cpu, tfjs wasm and PyTorch CPU, with ratios against each peer. `pnpm bench` from the root.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = process.env.BENCH_SECONDS ?? '4';
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

function runWorker(command, args, env = {}) {
  const label = [command, ...args].join(' ');
  process.stderr.write(`bench: ${label}\n`);
  try {
    const out = execFileSync(command, args, {
      cwd: here,
      encoding: 'utf8',
      env: { ...process.env, BENCH_SECONDS: seconds, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20 * 60_000,
    });
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch (error) {
    return { backend: label, error: error.message.split('\n')[0] };
  }
}

const startLoad = loadavg()[0];
const convkit = runWorker(process.execPath, ['lenet-tfjs.mjs', 'convkit']);
const tfjsWasm = runWorker(process.execPath, ['lenet-tfjs.mjs', 'tfjs-wasm']);
const tfjsCpu = runWorker(process.execPath, ['lenet-tfjs.mjs', 'tfjs-cpu'], { BENCH_SECONDS: '1' });
const torch = existsSync('/usr/bin/python3')
  ? runWorker(
      '/usr/bin/python3',
      ['pytorch_bench.py'],
      existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {},
    )
  : { backend: 'pytorch cpu', error: 'no /usr/bin/python3 (apt-get install python3-torch)' };

const WORKLOADS = [
  ['lenetTrain', 'stepsPerSecond', 'LeNet-5 training, batch 64 (steps/s)'],
  ['lenetInfer', 'imagesPerSecond', 'LeNet-5 inference, batch 64 (images/s)'],
  ['convForward', 'gflops', '3x3 conv 56x56x64->64, batch 8, forward (GFLOP/s)'],
  ['convBackwardInput', 'gflops', '  same, input gradient (GFLOP/s)'],
  ['convBackwardFilter', 'gflops', '  same, filter gradient (GFLOP/s)'],
];
const peers = [convkit, tfjsCpu, tfjsWasm, torch];

const value = (r, key, field) => r?.[key]?.[field];
const show = (r, key, field) => {
  const v = value(r, key, field);
  if (v === undefined) return r?.[key]?.error ? 'cannot run' : 'n/a';
  return v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2);
};
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}x` : '–');

const rows = WORKLOADS.map(([key, field, label]) => {
  const ours = value(convkit, key, field);
  return `| ${label} | ${peers.map((p) => show(p, key, field)).join(' | ')} | ${ratio(ours, value(torch, key, field))} | ${ratio(ours, value(tfjsCpu, key, field))} | ${ratio(ours, value(tfjsWasm, key, field))} |`;
});
const errors = peers.flatMap((p) =>
  [p.error, ...WORKLOADS.map(([key]) => p?.[key]?.error)]
    .filter(Boolean)
    .map((e) => `- ${p.backend}: ${e}`),
);

const markdown = `# Benchmark results

Written by \`pnpm bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}; every
column ran on this machine in one run, one process per backend, median of repeated calls
(${seconds} s budget per workload, 1 s for tfjs cpu). Higher is better; ratios are convkit's
number divided by the peer's.

Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${startLoad.toFixed(2)} at the start.

| workload | convkit (${(convkit.backend ?? '?').replace(/^convkit /, '')}) | tfjs cpu | tfjs wasm | PyTorch CPU | convkit / PyTorch | convkit / tfjs cpu | convkit / tfjs wasm |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

- convkit: ${convkit.device ?? convkit.error}
- PyTorch: ${torch.device ?? torch.error}; best of NCHW and channels_last per workload, OpenBLAS (openmp) when installed.
- tfjs wasm: tfjs's own kernels only; "cannot run" means a kernel is missing (training needs \`Conv2DBackpropFilter\`).
${errors.length ? `\nErrors:\n${errors.join('\n')}\n` : ''}`;

const target = join(here, 'RESULTS.md');
writeFileSync(`${target}.tmp`, markdown);
renameSync(`${target}.tmp`, target);
console.log(markdown);
console.log(JSON.stringify({ convkit, tfjsCpu, tfjsWasm, torch }));
