// LeNet-5 on Fashion-MNIST, the same recipe in three frameworks, one process after another:
// convkit's main job (the built CLI, apps/server/dist/cli.js), the same model in tfjs-layers
// (fashion-mnist-tfjs-layers.mjs, wasm backend through @convkit/backend) and in PyTorch CPU
// (fashion_mnist_pytorch.py). Writes FASHION-MNIST.md: seconds per epoch, total seconds, test
// accuracy and the ratios. `node bench/fashion-mnist.mjs` after `pnpm build`.
//   FM_EPOCHS (default 8, the main job's), FM_DATA (default /usr/share/datasets/fashion-mnist),
//   FM_STEPS (smoke run: N batches per epoch; the results file is then not written).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_DATA_DIR, readSplit, VALIDATION } from './fashion-mnist-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const epochs = Number(process.env.FM_EPOCHS ?? 8);
const dataDir = process.env.FM_DATA ?? DEFAULT_DATA_DIR;
const steps = process.env.FM_STEPS ? Number(process.env.FM_STEPS) : undefined;
const seed = 0;
const batchSize = 64;
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const cli = join(root, 'apps/server/dist/cli.js');
const dataPackage = join(root, 'packages/data/dist/index.js');
for (const file of [cli, dataPackage]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
}

const work = mkdtempSync(join(tmpdir(), 'convkit-fashion-mnist-'));
const runStart = performance.now();
const startLoad = loadavg();

// The main job's split: 5,000 stratified validation images, seed 0, from @convkit/data itself.
const { stratifiedSplit } = await import(pathToFileURL(dataPackage).href);
const trainAll = readSplit(dataDir, 'train');
const [trainIdx, valIdx] = stratifiedSplit(trainAll.labels, {
  sizes: [trainAll.count - VALIDATION, VALIDATION],
  seed,
});
const splitPath = join(work, 'split.json');
writeFileSync(
  splitPath,
  JSON.stringify({
    seed,
    // As the main job's --steps: the first steps * batch of the (sorted) training indices.
    train: Array.from(steps ? trainIdx.subarray(0, steps * batchSize) : trainIdx),
    validation: Array.from(valIdx),
  }),
);

function run(label, command, args, env = {}) {
  const load = loadavg()[0];
  process.stderr.write(`fashion-mnist: ${label} (load ${load.toFixed(2)})\n`);
  const start = performance.now();
  try {
    const out = execFileSync(command, args, {
      cwd: here,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60 * 60_000,
    });
    return { out, wall: (performance.now() - start) / 1000, load };
  } catch (error) {
    return { error: error.message.split('\n')[0], wall: (performance.now() - start) / 1000, load };
  }
}

/** convkit: the main job through its CLI, its numbers read back from metrics.json. */
function convkitRun() {
  const runDir = join(work, 'convkit-run');
  const args = [cli, 'main', '--backend', 'wasm', '--data', dataDir, '--epochs', `${epochs}`];
  args.push('--seed', `${seed}`, '--batch-size', `${batchSize}`, '--run-dir', runDir);
  if (steps) args.push('--steps', `${steps}`);
  const r = run('convkit main job', process.execPath, args);
  if (r.error) return { framework: 'convkit', error: r.error, load: r.load };
  process.stderr.write(r.out);
  const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8'));
  const backendLine = r.out.split('\n').find((l) => l.startsWith('device:'));
  return {
    framework: 'convkit',
    backend: `convkit main job on ${m.backend} (${backendLine?.slice(8) ?? '?'})`,
    epochs: m.history.length,
    history: m.history.map((h) => ({
      epoch: h.epoch,
      loss: h.loss,
      accuracy: h.metrics.accuracy,
      valLoss: h.valLoss,
      valAccuracy: h.valMetrics?.accuracy,
      seconds: h.seconds,
    })),
    seconds: { training: m.seconds.training, process: m.seconds.total },
    test: m.test,
    wall: r.wall,
    load: r.load,
  };
}

function workerRun(label, command, args, env) {
  const r = run(label, command, args, env);
  if (r.error) return { framework: label, error: r.error, load: r.load };
  return { ...JSON.parse(r.out.trim().split('\n').at(-1)), wall: r.wall, load: r.load };
}

// PyTorch first: its two OpenMP threads suffer most from other load on the machine, so it runs
// while the machine is as quiet as whoever started the run found it. The table's order is
// convkit, tfjs-layers, PyTorch.
const torch = existsSync('/usr/bin/python3')
  ? workerRun(
      'pytorch',
      '/usr/bin/python3',
      ['fashion_mnist_pytorch.py', splitPath, `${epochs}`, dataDir],
      { BENCH_THREADS: '2', ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}) },
    )
  : { framework: 'pytorch', error: 'no /usr/bin/python3 (apt-get install python3-torch)' };
const convkit = convkitRun();
const layers = workerRun('tfjs-layers', process.execPath, [
  'fashion-mnist-tfjs-layers.mjs',
  splitPath,
  `${epochs}`,
  dataDir,
]);
const results = [convkit, layers, torch];
const totalMinutes = (performance.now() - runStart) / 60_000;
const endLoad = loadavg();
rmSync(work, { recursive: true, force: true });

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
for (const r of results) {
  if (r.error) continue;
  r.perEpoch = median(r.history.map((h) => h.seconds));
  r.trainPasses = r.history.reduce((a, h) => a + h.seconds, 0);
  r.fastest = Math.min(...r.history.map((h) => h.seconds));
}
const NAMES = {
  convkit: 'convkit (main job)',
  'tfjs-layers': 'tfjs-layers',
  pytorch: 'PyTorch CPU',
};
const f1 = (v) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(1));
const pct = (v) => (v === undefined ? '–' : `${(v * 100).toFixed(2)}%`);
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '–');

const rows = results.map((r) => {
  if (r.error) return `| ${NAMES[r.framework] ?? r.framework} | failed: ${r.error} | | | | | | |`;
  const last = r.history.at(-1);
  return `| ${NAMES[r.framework]} | ${f1(r.perEpoch)} | ${f1(r.fastest)}–${f1(Math.max(...r.history.map((h) => h.seconds)))} | ${f1(r.trainPasses)} | ${f1(r.seconds.training)} | ${f1(r.wall)} | ${pct(last.valAccuracy)} | **${pct(r.test.accuracy)}** | ${r.load.toFixed(2)} |`;
});
const epochRows = results
  .filter((r) => !r.error)
  .map(
    (r) =>
      `| ${NAMES[r.framework]} | ${r.history.map((h) => `${f1(h.seconds)} s, ${pct(h.valAccuracy)}${h.load === undefined ? '' : `, load ${h.load.toFixed(1)}`}`).join(' | ')} |`,
  );

const markdown = `# LeNet-5 on Fashion-MNIST: convkit vs tfjs-layers vs PyTorch

Written by \`node bench/fashion-mnist.mjs\` (after \`pnpm build\`) on ${new Date().toISOString().slice(0, 10)}.
The three ran one after another on this machine (PyTorch, convkit, tfjs-layers), in one run of ${totalMinutes.toFixed(1)} minutes.

Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load average
(1, 5, 15 min) ${startLoad.map((v) => v.toFixed(2)).join(', ')} at the start and ${endLoad.map((v) => v.toFixed(2)).join(', ')} at the end
(the machine was shared; the load when each framework started is in the table).

Recipe, the same for all three (the main job's, apps/server/src/main-job.ts): LeNet-5 (conv 1→6 5x5
pad 2, ReLU, max pool 2, conv 6→16 5x5, ReLU, max pool 2, flatten, 400→120 ReLU →84 ReLU →10; 61,706
parameters), the same four IDX gz files, the same split (55,000 training images, 5,000 stratified
validation images, @convkit/data's \`stratifiedSplit\` with seed ${seed}), normalization (x/255 − 0.286)/0.353,
Adam (lr 2e-3, betas 0.9/0.999, eps 1e-8) with cosine annealing to 0 stepped after every batch, batch
${batchSize}, shuffled every epoch, ${epochs} epochs, validation (batch 500) after each epoch, then the
10,000 test images with the final weights.

| framework | s / epoch (median) | min–max | training passes, s | fit incl. validation, s | process wall, s | final val accuracy | test accuracy | load at start |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Ratios of seconds per epoch (median; above 1 means convkit is slower):

| | convkit / PyTorch | convkit / tfjs-layers |
| --- | --- | --- |
| s / epoch | ${ratio(convkit.perEpoch, torch.perEpoch)} | ${ratio(convkit.perEpoch, layers.perEpoch)} |
| fastest epoch | ${ratio(convkit.fastest, torch.fastest)} | ${ratio(convkit.fastest, layers.fastest)} |
| fit incl. validation | ${ratio(convkit.seconds?.training, torch.seconds?.training)} | ${ratio(convkit.seconds?.training, layers.seconds?.training)} |

- "s / epoch": one training pass over the 55,000 images (forward, loss, backward, Adam, the loss
  read back every batch), validation excluded; median over the ${epochs} epochs. "fit incl.
  validation": the whole training loop with the per-epoch validation (convkit's also writes its
  checkpoint and CSV). "process wall": the whole process, from start-up and data loading to the test set.
  "fastest epoch" is the least disturbed by other load on the machine: PyTorch's two OpenMP threads
  wait for each other at every parallel op, so a busy core can stretch one of its epochs many times
  over, while the single-threaded wasm rows only lose their share of the CPU.
- convkit: ${convkit.backend ?? convkit.error}; \`node apps/server/dist/cli.js main --backend wasm
  --data ${dataDir} --epochs ${epochs}\` (\`--backend wasm\` is what \`auto\` chooses here); the numbers are
  read from its metrics.json.
- tfjs-layers: ${layers.backend ?? layers.error}. \`tf.sequential\` of conv2d / maxPooling2d /
  flatten / dense, \`model.fit\` on tensors built once (batch ${batchSize}, shuffle), tfjs's \`tf.train.adam\` with its
  \`learningRate\` set to the cosine schedule before every batch. tfjs-layers can train a conv net on
  wasm only because @convkit/backend registers the kernels plain tfjs wasm lacks (Conv2DBackpropFilter,
  Conv2DBackpropInput, MaxPoolGrad, ...); that is also convkit's backend here, so both JavaScript
  rows run on the same kernels. Its last layer has a softmax with
  \`sparseCategoricalCrossentropy\` (tfjs-layers' losses take probabilities) where the other two put
  the softmax in the loss; weights are initialized as PyTorch does (U(±1/√fan_in)) for all three.
- PyTorch: ${torch.backend ?? torch.error}, OpenBLAS (openmp), fashion_mnist_pytorch.py.
- Not identical: each framework draws its own initial weights and shuffling order (different random
  generators), so the accuracies differ by run-to-run noise, not only by implementation. convkit and
  tfjs-layers run on wasm with 1 thread (as selectBackend reports it); PyTorch uses 2 threads.

Per epoch (training-pass seconds, validation accuracy, and for the two workers the 1-minute load
average at the epoch's end):

| framework | ${Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`).join(' | ')} |
| --- | ${Array.from({ length: epochs }, () => '---').join(' | ')} |
${epochRows.join('\n')}
`;

if (steps) {
  console.log(markdown);
  process.stderr.write('fashion-mnist: smoke run (FM_STEPS), FASHION-MNIST.md not written\n');
} else {
  const target = join(here, 'FASHION-MNIST.md');
  writeFileSync(`${target}.tmp`, markdown);
  renameSync(`${target}.tmp`, target);
  console.log(markdown);
}
console.log(JSON.stringify({ totalMinutes, startLoad, endLoad, results }));
