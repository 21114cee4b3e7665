// convkit's default Node backend (wasm) on 1 thread and on every core, against PyTorch on the
// same cores, in one run; writes THREADS.md. Workers run one after another, one process per
// thread count (the backend starts once per process):
//   lenet-tfjs.mjs convkit             LeNet-5 training / inference, 56x56x64 3x3 conv and grads
//   packages/zoo/bench/zoo.bench.mjs   ResNet-18 inference (batch 1, 8), CIFAR ResNet-20 step
//   resnet20-memory.mjs                peak RSS of CIFAR ResNet-20 training (batch 128)
//   pytorch_bench.py, zoo_torch.py,    the same workloads in PyTorch (OpenBLAS), all cores
//   resnet20_memory.py
// Needs a quiet machine: threads only help when the cores are free.
//   node bench/threads.mjs             (BENCH_SECONDS, default 3; ZOO_RUNS, default 3;
//                                      BENCH_ROUNDS, default 3; BENCH_PYTHON, default
//                                      Debian's /usr/bin/python3; BENCH_GPU, below)
// On a machine with a GPU the same command adds a second table: the same workloads on each GPU
// backend convkit can start there (webgpu through Dawn, cuda through tfjs-node-gpu where it is
// installed), against PyTorch on the GPU where torch sees one (else on the CPU cores, said so).
// BENCH_GPU: unset or 'auto' probes both and keeps those on a hardware adapter; 'none' skips
// them; a list ('webgpu,cuda') runs those even on an emulated adapter (SwiftShader: about
// 0.05 GMAC/s, hours for these workloads).
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cores = availableParallelism();
const seconds = process.env.BENCH_SECONDS ?? '3';
const zooRuns = process.env.ZOO_RUNS ?? '3';
/** Rounds of the whole comparison: on a shared machine one round can land on a busy minute. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
/** Debian's python3-torch; BENCH_PYTHON names another (a GPU machine's CUDA build, say). */
const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const torchEnv = existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {};

function run(command, args, env = {}) {
  process.stderr.write(`threads bench: ${[command, ...args].join(' ')} ${JSON.stringify(env)}\n`);
  return execFileSync(command, args, {
    cwd: here,
    encoding: 'utf8',
    env: { ...process.env, BENCH_SECONDS: seconds, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  });
}

const lastJson = (out) => JSON.parse(out.trim().split('\n').at(-1));

/** `| model | task | batch | ms | ...` rows of a zoo bench table, keyed `model/task/batch`. */
function tableMs(out) {
  const rows = {};
  for (const line of out.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || !/^\d+$/.test(cells[3])) continue;
    rows[`${cells[1]}/${cells[2]}/${cells[3]}`] = Number(cells[4]);
  }
  return rows;
}

/** Adapters that run on the CPU: no GPU figure, and far too slow for these workloads. */
const EMULATED = /swiftshader|llvmpipe|lavapipe/i;

/** The GPU backends to measure, each with the device it started on (see BENCH_GPU above). */
function gpuBackends() {
  const asked = process.env.BENCH_GPU ?? 'auto';
  if (asked === 'none') return [];
  const names = asked === 'auto' ? ['cuda', 'webgpu'] : asked.split(',').map((n) => n.trim());
  const started = [];
  for (const name of names) {
    const probe = lastJson(run(process.execPath, ['backend-probe.mjs', name]));
    if (probe.error) {
      process.stderr.write(`threads bench: no ${name} column: ${probe.error}\n`);
    } else if (asked === 'auto' && EMULATED.test(probe.device)) {
      process.stderr.write(`threads bench: no ${name} column: emulated (${probe.device})\n`);
    } else {
      started.push(probe);
    }
  }
  return started;
}

/** Whether BENCH_PYTHON's torch sees a CUDA device (Debian's CPU-only build answers false). */
function torchHasCuda() {
  const out = run(python, ['-c', 'import torch; print(torch.cuda.is_available())']);
  return out.trim() === 'True';
}

/**
 * The workloads, each a convkit worker (its backend set by `env`) and its PyTorch peer (on
 * `device`, 'cpu' on every core or 'cuda'); `gpu`: also measured on the GPU backends.
 */
const PARTS = {
  lenet: {
    gpu: true,
    convkit: (env) => lastJson(run(process.execPath, ['lenet-tfjs.mjs', 'convkit'], env)),
    torch: (env) => lastJson(run(python, ['pytorch_bench.py'], env)),
  },
  zoo: {
    gpu: true,
    convkit: (env) =>
      tableMs(
        run(
          process.execPath,
          [join(root, 'packages/zoo/bench/zoo.bench.mjs'), env.BENCH_BACKEND, zooRuns],
          { ...env, ZOO_BENCH_PEERS: '0' },
        ),
      ),
    torch: (env) =>
      tableMs(
        run(python, [join(root, 'packages/zoo/bench/zoo_torch.py'), String(cores), zooRuns], env),
      ),
  },
  memory: {
    gpu: false,
    convkit: (env) => lastJson(run(process.execPath, ['resnet20-memory.mjs'], env)),
    torch: (env) => lastJson(run(python, ['resnet20_memory.py'], env)),
  },
};

const gpus = gpuBackends();
const torchGpu = gpus.length > 0 && torchHasCuda() ? 'cuda' : undefined;

/**
 * One round: each workload on convkit's 1 thread, on every core, then in PyTorch on every core,
 * back to back (the host's load drifts over minutes: a ratio compares neighbours); then each
 * GPU backend, and PyTorch on the GPU.
 */
function measureRound() {
  const wasmOn = (threads) => ({ BENCH_BACKEND: 'wasm', CONVKIT_WASM_THREADS: String(threads) });
  const torchOn = (device) => ({
    ...torchEnv,
    BENCH_THREADS: String(cores),
    BENCH_DEVICE: device,
  });
  /** `measure` of each part that also runs on the GPU, keyed by the part's name. */
  const onGpuParts = (measure) =>
    Object.fromEntries(
      Object.entries(PARTS)
        .filter(([, part]) => part.gpu)
        .map(([name, part]) => [name, measure(part)]),
    );
  const round = { convkit: { 1: {}, [cores]: {} }, torch: {}, gpu: {} };
  for (const [name, part] of Object.entries(PARTS)) {
    for (const threads of [1, cores]) round.convkit[threads][name] = part.convkit(wasmOn(threads));
    round.torch[name] = part.torch(torchOn('cpu'));
  }
  for (const { backend } of gpus) {
    // A GPU backend that fails a workload leaves its cells empty, not the CPU table unwritten.
    try {
      round.gpu[backend] = onGpuParts((part) => part.convkit({ BENCH_BACKEND: backend }));
    } catch (error) {
      round.gpu[backend] = { error: `${backend}: ${error.message.split('\n')[0]}` };
    }
  }
  round.torchGpu = torchGpu ? onGpuParts((part) => part.torch(torchOn(torchGpu))) : round.torch;
  return round;
}

const startLoad = loadavg()[0];
const results = Array.from({ length: rounds }, measureRound);
const endLoad = loadavg()[0];

// [label, a value from one measurement ({ lenet, zoo, memory }: a convkit thread count or
// PyTorch), higher is better, the issue's target ratio]
const lenetRow = (label, key, field, target) => [
  label,
  (m) => m.lenet?.[key]?.[field],
  true,
  target,
];
const zooRow = (label, key, target) => [label, (m) => m.zoo?.[key], false, target];
const ROWS = [
  lenetRow('LeNet-5 training, batch 64 (steps/s)', 'lenetTrain', 'stepsPerSecond', '0.6x'),
  lenetRow('LeNet-5 inference, batch 64 (images/s)', 'lenetInfer', 'imagesPerSecond', ''),
  // GFLOP/s count the direct convolution's FLOPs for every engine; convkit runs all three by
  // Winograd F(2x2, 3x3) here (2.25x fewer multiply-adds).
  lenetRow(
    '3x3 conv 56x56x64, batch 8, forward (GFLOP/s; convkit: Winograd)',
    'convForward',
    'gflops',
    '80 GFLOP/s',
  ),
  lenetRow(
    '  same, input gradient (GFLOP/s; convkit: Winograd)',
    'convBackwardInput',
    'gflops',
    '80 GFLOP/s',
  ),
  lenetRow(
    '  same, filter gradient (GFLOP/s; convkit: Winograd)',
    'convBackwardFilter',
    'gflops',
    '80 GFLOP/s',
  ),
  zooRow(
    'CIFAR ResNet-20 (A) training step, batch 128 (ms)',
    'CIFAR ResNet-20 (A)/train step/128',
    '0.3x',
  ),
  zooRow('ResNet-18 inference, batch 1 (ms)', 'ResNet-18/inference/1', '0.3x'),
  zooRow('ResNet-18 inference, batch 8 (ms)', 'ResNet-18/inference/8', '0.3x'),
  ['peak RSS, CIFAR ResNet-20 training, batch 128 (MB)', (m) => m.memory?.peakMB, false, ''],
  ['  RSS before the model was built (MB)', (m) => m.memory?.baselineMB, false, ''],
];

const fmt = (v) => (v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

const median = (values) => {
  const known = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  return known.length === 0 ? undefined : known[(known.length - 1) >> 1];
};
/** The ratio in each round, as `min-max` (the spread the machine's noise gives). */
const spread = (ratios) => {
  const known = ratios.filter((r) => Number.isFinite(r));
  if (known.length < 2) return '';
  return ` (${Math.min(...known).toFixed(2)}-${Math.max(...known).toFixed(2)})`;
};
const ratio = (a, b, higherIsBetter) =>
  a === undefined || b === undefined ? Number.NaN : higherIsBetter ? a / b : b / a;
const times = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–');

const first = results[0];

/**
 * The same rows on each GPU backend against PyTorch on the GPU (or, where torch has no CUDA, on
 * the CPU cores), as one more table; none without a GPU backend. Process RSS says nothing of
 * GPU memory, so those rows are left out.
 */
function gpuTable() {
  if (gpus.length === 0) return [];
  const peer = torchGpu ? `PyTorch ${torchGpu}` : `PyTorch ${cores} CPU threads`;
  const rows = [
    '## On the GPU',
    '',
    `convkit devices: ${gpus.map((g) => `${g.backend}: ${g.device}`).join('; ')}. ${peer}: ${first.torchGpu.lenet.device}.`,
    '',
    `| workload | ${gpus.map((g) => `convkit ${g.backend} | convkit ${g.backend} / ${peer} (spread)`).join(' | ')} | ${peer} |`,
    `| --- | ${gpus.map(() => '--- | ---').join(' | ')} | --- |`,
  ];
  for (const [label, value, higher] of ROWS) {
    const own = gpus.map(({ backend }) => median(results.map((r) => value(r.gpu[backend]))));
    if (own.every((v) => v === undefined)) continue;
    const torch = median(results.map((r) => value(r.torchGpu)));
    const cells = gpus.map(({ backend }, i) => {
      const perRound = results.map((r) => ratio(value(r.gpu[backend]), value(r.torchGpu), higher));
      return `${fmt(own[i])} | ${times(ratio(own[i], torch, higher))}${spread(perRound)}`;
    });
    rows.push(`| ${label} | ${cells.join(' | ')} | ${fmt(torch)} |`);
  }
  const failures = results.flatMap((r) => Object.values(r.gpu).flatMap((m) => m.error ?? []));
  return [...rows, '', ...failures.map((f) => `Failed: ${f}`), ...(failures.length ? [''] : [])];
}
const lines = [
  '# Threads: the default Node backend on one core and on all cores',
  '',
  `Written by \`node bench/threads.mjs\` on ${new Date().toISOString().slice(0, 10)}; all in one run on this machine, in ${rounds} rounds`,
  '(in each, every workload on convkit on 1 thread, on every core, then in PyTorch, back to back);',
  "each cell is the median over the rounds, and the ratio column adds its spread (each round's own",
  'ratio, lowest to highest).',
  `convkit rows: medians over ${seconds} s per LeNet / conv workload, median of ${zooRuns} runs per zoo row;`,
  'PyTorch: the same workloads with OpenBLAS (openmp) and its best layout, on all cores.',
  '',
  `Machine: ${cores} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; load average ${startLoad.toFixed(2)} at the start, ${endLoad.toFixed(2)} at the end.`,
  `convkit devices: 1 thread: ${first.convkit[1].lenet.device}; ${cores} threads: ${first.convkit[cores].lenet.device}. PyTorch: ${first.torch.lenet.device}.`,
  '',
  `| workload | convkit 1 thread | convkit ${cores} threads | threads speed-up | PyTorch ${cores} threads | convkit ${cores} threads / PyTorch (spread) | target |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const [label, value, higher, target] of ROWS) {
  const one = median(results.map((r) => value(r.convkit[1])));
  const all = median(results.map((r) => value(r.convkit[cores])));
  const torch = median(results.map((r) => value(r.torch)));
  const perRound = results.map((r) => ratio(value(r.convkit[cores]), value(r.torch), higher));
  lines.push(
    `| ${label} | ${fmt(one)} | ${fmt(all)} | ${times(ratio(all, one, higher))} | ${fmt(torch)} | ${times(ratio(all, torch, higher))}${spread(perRound)} | ${target} |`,
  );
}
lines.push('', ...gpuTable());
const out = join(here, 'THREADS.md');
writeFileSync(`${out}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${out}.tmp`, out);
process.stdout.write(`${lines.join('\n')}\n`);
