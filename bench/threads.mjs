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
//                                      BENCH_ROUNDS, default 3)
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

/** One round: convkit on 1 thread and on every core, then PyTorch on every core. */
function measureRound() {
  const convkit = {};
  for (const threads of [1, cores]) {
    const env = { CONVKIT_WASM_THREADS: String(threads) };
    convkit[threads] = {
      lenet: lastJson(run(process.execPath, ['lenet-tfjs.mjs', 'convkit'], env)),
      zoo: tableMs(
        run(process.execPath, [join(root, 'packages/zoo/bench/zoo.bench.mjs'), 'wasm', zooRuns], {
          ...env,
          ZOO_BENCH_PEERS: '0',
        }),
      ),
      memory: lastJson(run(process.execPath, ['resnet20-memory.mjs'], env)),
    };
  }
  const threadsEnv = { ...torchEnv, BENCH_THREADS: String(cores) };
  const torch = {
    lenet: lastJson(run('/usr/bin/python3', ['pytorch_bench.py'], threadsEnv)),
    zoo: tableMs(
      run(
        '/usr/bin/python3',
        [join(root, 'packages/zoo/bench/zoo_torch.py'), String(cores), zooRuns],
        torchEnv,
      ),
    ),
    memory: lastJson(run('/usr/bin/python3', ['resnet20_memory.py'], threadsEnv)),
  };
  return { convkit, torch };
}

const startLoad = loadavg()[0];
const results = Array.from({ length: rounds }, measureRound);
const endLoad = loadavg()[0];

// [label, a value from one measurement ({ lenet, zoo, memory }: a convkit thread count or
// PyTorch), higher is better, the target ratio]
const lenetRow = (label, key, field, target) => [label, (m) => m.lenet[key]?.[field], true, target];
const zooRow = (label, key, target) => [label, (m) => m.zoo[key], false, target];
const ROWS = [
  lenetRow('LeNet-5 training, batch 64 (steps/s)', 'lenetTrain', 'stepsPerSecond', '0.6x'),
  lenetRow('LeNet-5 inference, batch 64 (images/s)', 'lenetInfer', 'imagesPerSecond', ''),
  lenetRow('3x3 conv 56x56x64, batch 8, forward (GFLOP/s)', 'convForward', 'gflops', '80 GFLOP/s'),
  lenetRow('  same, input gradient (GFLOP/s)', 'convBackwardInput', 'gflops', '80 GFLOP/s'),
  lenetRow('  same, filter gradient (GFLOP/s)', 'convBackwardFilter', 'gflops', '80 GFLOP/s'),
  zooRow(
    'CIFAR ResNet-20 (A) training step, batch 128 (ms)',
    'CIFAR ResNet-20 (A)/train step/128',
    '0.3x',
  ),
  zooRow('ResNet-18 inference, batch 1 (ms)', 'ResNet-18/inference/1', '0.3x'),
  zooRow('ResNet-18 inference, batch 8 (ms)', 'ResNet-18/inference/8', '0.3x'),
  ['peak RSS, CIFAR ResNet-20 training, batch 128 (MB)', (m) => m.memory.peakMB, false, ''],
  ['  RSS before the model was built (MB)', (m) => m.memory.baselineMB, false, ''],
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
const lines = [
  '# Threads: the default Node backend on one core and on all cores',
  '',
  `Written by \`node bench/threads.mjs\` on ${new Date().toISOString().slice(0, 10)}; all in one run on this machine, in ${rounds} rounds`,
  'of convkit on 1 thread, convkit on every core, then PyTorch; each cell is the median over the rounds,',
  "and the ratio column adds its spread (each round's own ratio, lowest to highest).",
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
lines.push('');
const out = join(here, 'THREADS.md');
writeFileSync(`${out}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${out}.tmp`, out);
process.stdout.write(`${lines.join('\n')}\n`);
