// A measured hyperparameter search (@convkit/tune): a LeNet-style CNN on a stratified subset of
// Fashion-MNIST, random search (every trial trained to the full epoch budget) against random
// sampling with ASHA early stopping, under the same compute budget (epochs trained, counted
// over finished trials), across 2 worker processes pulling trials from BullMQ on a Redis
// server this script starts (Debian's /usr/bin/redis-server, temp dir, loopback port). The
// search never sees the test split: the overall winner is retrained on the whole search set and
// evaluated once on it. Writes TUNE-FASHION-MNIST.md beside this file.
//
//   node bench/tune-fashion-mnist.mjs          (after `pnpm build`)
//
// Environment: TUNE_POOL (images drawn from the training split, default 1200), TUNE_EPOCHS
// (full training, default 4), TUNE_BUDGET (epochs per study, default 6 * TUNE_EPOCHS),
// TUNE_BACKEND (default wasm), FM_DATA (directory of the four IDX gz files),
// TUNE_NO_WRITE=1 (print the report only).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, selectBackend } from '@convkit/backend';
import { DataLoader, loadFashionMnist, normalize, stratifiedSplit, subset } from '@convkit/data';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import { Adam, SGD } from '@convkit/optimizers';
import { evaluate, fit } from '@convkit/train';
import {
  choice,
  defineSpace,
  float,
  int,
  RandomSampler,
  redisRunner,
  resultsTable,
  retrainAndTest,
  runStudy,
  startWorker,
  TrialReporter,
  validationPlan,
} from '@convkit/tune';

const here = dirname(fileURLToPath(import.meta.url));
const POOL = Number(process.env.TUNE_POOL ?? 1200);
const EPOCHS = Number(process.env.TUNE_EPOCHS ?? 4);
const BUDGET = Number(process.env.TUNE_BUDGET ?? 6 * EPOCHS);
const BACKEND = process.env.TUNE_BACKEND ?? 'wasm';
const DATA = process.env.FM_DATA ?? '/usr/share/datasets/fashion-mnist';
const SEED = 0;

export const space = defineSpace({
  filters1: int(4, 16),
  filters2: int(8, 32),
  kernelSize: choice([3, 5]),
  units: int(32, 128, { log: true }),
  optimizer: choice(['sgd', 'adam']),
  momentum: float(0.5, 0.95, { when: { param: 'optimizer', equals: 'sgd' } }),
  lr: float(1e-4, 1e-1, { log: true }),
  batchSize: choice([32, 64, 128]),
});

/** The pool (a stratified subset of the training split) and its validation plan. */
let cached;
async function data() {
  if (!cached) {
    const train = await loadFashionMnist({ split: 'train', path: DATA });
    const [poolIndices] = stratifiedSplit(train.labels, {
      sizes: [POOL, train.length - POOL],
      seed: SEED,
    });
    const pool = subset(train, poolIndices);
    const plan = validationPlan(pool.labels, {
      testFraction: 0.2,
      validationFraction: 0.25,
      seed: SEED,
    });
    cached = { pool, plan };
  }
  return cached;
}

const transform = normalize({ mean: 0.286, std: 0.353 });

function lenet(p) {
  // 28 -> conv (same) -> 28 -> pool -> 14 -> conv (valid) -> 15 - k -> pool -> floor((15 - k) / 2)
  const side = Math.floor((15 - p.kernelSize) / 2);
  return new Sequential(
    new Conv2d({
      inChannels: 1,
      outChannels: p.filters1,
      kernelSize: p.kernelSize,
      padding: (p.kernelSize - 1) / 2,
    }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: p.filters1, outChannels: p.filters2, kernelSize: p.kernelSize }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: side * side * p.filters2, outFeatures: p.units }),
    new ReLU(),
    new Linear({ inFeatures: p.units, outFeatures: 10 }),
  );
}

function optimizerFor(model, p) {
  return p.optimizer === 'adam'
    ? new Adam(model.trainableVariables(), { lr: p.lr })
    : new SGD(model.trainableVariables(), { lr: p.lr, momentum: p.momentum });
}

/** Train `p` on `indices` for EPOCHS epochs; with a trial, validate and report each epoch. */
async function train(p, indices, { trial, validation, seed }) {
  const { pool } = await data();
  manualSeed(seed);
  const model = lenet(p);
  const optimizer = optimizerFor(model, p);
  const loader = new DataLoader(subset(pool, indices), {
    batchSize: p.batchSize,
    shuffle: true,
    seed,
    transform,
  });
  const result = await fit(model, {
    data: loader,
    optimizer,
    epochs: EPOCHS,
    metrics: ['accuracy'],
    validationData: validation
      ? new DataLoader(subset(pool, validation), { batchSize: 500, transform })
      : undefined,
    callbacks: trial ? [new TrialReporter(trial, { monitor: 'val_accuracy' })] : [],
  });
  optimizer.dispose();
  return { model, history: result.history };
}

/** The objective each worker runs: validation accuracy after EPOCHS epochs (or when pruned). */
async function objective(trial) {
  const { plan } = await data();
  const [fold] = plan.folds;
  const { model, history } = await train(trial.params, fold.train, {
    trial,
    validation: fold.validation,
    seed: 1000 + trial.number,
  });
  model.dispose();
  return history.at(-1).valMetrics.accuracy;
}

async function workerMain(url) {
  await selectBackend({ backend: BACKEND });
  await data();
  const worker = await startWorker({ url, objective });
  process.stdout.write(`ready ${worker.id}\n`);
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startProcess(command, args, readyPattern) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      if (readyPattern.test(out)) resolve(proc);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    proc.once('exit', (code) => reject(new Error(`${command} exited (${code}): ${out}`)));
  });
}

/** One study under the epoch budget: stops submitting once finished trials used BUDGET epochs. */
async function study(name, url, pruner) {
  const stop = new AbortController();
  let spent = 0;
  const curve = [];
  let best = 0;
  const started = performance.now();
  const result = await runStudy({
    name,
    space,
    trials: 1000,
    seed: SEED,
    concurrency: 2,
    direction: 'maximize',
    sampler: new RandomSampler(),
    pruner,
    runner: redisRunner({ url }),
    signal: stop.signal,
    onTrial: (t) => {
      if (stop.signal.aborted) return;
      spent += t.intermediate.length;
      if (t.state === 'complete') best = Math.max(best, t.value);
      curve.push({ spent, best, trial: t.number, seconds: (performance.now() - started) / 1000 });
      if (spent >= BUDGET) stop.abort();
    },
  });
  return { result, curve, spent, seconds: (performance.now() - started) / 1000 };
}

/** Wait until the workers finished the trials still in flight when a study stopped. */
async function drain(url) {
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('convkit-tune', { connection });
  for (;;) {
    const counts = await queue.getJobCounts('active', 'wait', 'prioritized', 'delayed');
    if (Object.values(counts).every((c) => c === 0)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await queue.close();
  await connection.quit();
}

function bestAt(curve, budget) {
  let best;
  for (const point of curve) if (point.spent <= budget) best = point.best;
  return best === undefined ? '-' : best.toFixed(4);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-tune-bench-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = await startProcess(
    '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
    ],
    /Ready to accept connections/,
  );
  const script = fileURLToPath(import.meta.url);
  const workers = [];
  try {
    for (let i = 0; i < 2; i++)
      workers.push(await startProcess(process.execPath, [script, 'worker', url], /ready /));
    console.log(
      `2 workers ready; budget ${BUDGET} epochs per study, ${EPOCHS} epochs per full trial`,
    );
    const random = await study('random-search', url, { type: 'none' });
    await drain(url);
    console.log(resultsTable(random.result, { sortBy: 'value', limit: 5 }));
    const asha = await study('asha', url, { type: 'asha', minResource: 1, reductionFactor: 3 });
    await drain(url);
    console.log(resultsTable(asha.result, { sortBy: 'value', limit: 5 }));

    // The overall winner, retrained on the whole search set and tested once.
    await selectBackend({ backend: BACKEND });
    const { pool, plan } = await data();
    const winner =
      (asha.result.best?.value ?? 0) > (random.result.best?.value ?? 0)
        ? asha.result
        : random.result;
    const started = performance.now();
    const final = await retrainAndTest({
      plan,
      study: winner,
      train: async (params, indices) => (await train(params, indices, { seed: SEED })).model,
      evaluate: async (model, testIndices) => {
        const test = new DataLoader(subset(pool, testIndices), { batchSize: 500, transform });
        const { metrics } = await evaluate(model, test, { metrics: ['accuracy'] });
        model.dispose();
        return metrics.accuracy;
      },
    });
    const retrainSeconds = (performance.now() - started) / 1000;

    const quarter = (k) => Math.round((BUDGET * k) / 4);
    const row = (label, s) => {
      const states = ['complete', 'pruned', 'failed'].map(
        (x) => s.result.trials.filter((t) => t.state === x).length,
      );
      return `| ${label} | ${s.result.trials.length} (${states[0]} / ${states[1]} / ${states[2]}) | ${s.spent} | ${[1, 2, 3, 4].map((k) => bestAt(s.curve, quarter(k))).join(' | ')} | ${s.seconds.toFixed(0)} |`;
    };
    const report = [
      '# Hyperparameter search: LeNet-style CNN on Fashion-MNIST (@convkit/tune)',
      '',
      `Measured by \`TUNE_POOL=${POOL} TUNE_EPOCHS=${EPOCHS} TUNE_BUDGET=${BUDGET} node bench/tune-fashion-mnist.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0].model}, ${cpus().length} cores (load average ${loadavg()[0].toFixed(1)} at the end: the machine was shared, so seconds are not comparable across runs), Node ${process.version}, tfjs backend \`${BACKEND}\`.`,
      '',
      `Data: a stratified subset of ${POOL} images of the Fashion-MNIST training split; its validation plan (seed ${SEED}) sets ${plan.testSize} aside as the sealed test set and splits the other ${plan.search.length} into ${plan.folds[0].train.length} for training and ${plan.folds[0].validation.length} for validation. Space: filters 4-16 and 8-32, kernel 3 or 5, units 32-128 (log), SGD (momentum 0.5-0.95) or Adam, learning rate 1e-4 to 1e-1 (log), batch size 32 / 64 / 128. Both studies draw configurations with the same seeded random sampler; a full trial trains ${EPOCHS} epochs. ASHA (η = 3): rungs at epochs ${[1, 3, 9, 27].filter((r) => r < EPOCHS).join(', ')}. 2 worker processes pull trials from BullMQ on Redis (concurrency 2). Budget: ${BUDGET} training epochs per study, counted over finished trials (a study stops submitting once it has spent them).`,
      '',
      `| study | trials (complete / pruned / failed) | epochs spent | best val acc at ${quarter(1)} epochs | at ${quarter(2)} | at ${quarter(3)} | at ${quarter(4)} | seconds |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('random search', random),
      row('random + ASHA', asha),
      '',
      `Winner: study \`${winner.name}\`, trial ${winner.best.number}, validation accuracy ${winner.best.value.toFixed(4)}, ${JSON.stringify(final.params)}.`,
      `Retrained on the ${plan.search.length} search images for ${EPOCHS} epochs and evaluated once on the ${plan.testSize} test images: **test accuracy ${final.test.toFixed(4)}** (${retrainSeconds.toFixed(0)} s).`,
      '',
      '## Random search, best 5 trials',
      '',
      resultsTable(random.result, { sortBy: 'value', limit: 5 }),
      '',
      '## Random + ASHA, best 5 trials',
      '',
      resultsTable(asha.result, { sortBy: 'value', limit: 5 }),
      '',
    ].join('\n');
    console.log(report);
    if (!process.env.TUNE_NO_WRITE) writeFileSync(join(here, 'TUNE-FASHION-MNIST.md'), report);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    redis.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'worker') await workerMain(process.argv[3]);
else {
  await main();
  process.exit(0); // the tfjs backend and BullMQ timers would keep the process alive
}
