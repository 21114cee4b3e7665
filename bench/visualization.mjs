// Interpretability on real CNNs: Grad-CAM, integrated gradients and feature-inversion
// reconstruction (@convkit/visualization) on CIFAR ResNet-20 (32x32) and ResNet-18 (224x224),
// convkit's default Node backend (tfjs wasm + convkit kernels, one thread) against the same
// computation in PyTorch on one thread (visualization_pytorch.py, OpenBLAS, best of NCHW and
// channels_last). `node visualization.mjs worker` prints one JSON line; without arguments it
// runs the PyTorch peer first, then the worker, and writes VISUALIZATION.md with the ratios.
// Step counts per model come from VIS_<MODEL>_<TASK> (see WORKLOADS); ResNet-18 runs 50
// reconstruction steps instead of 200 by default (a shared machine), and the table gives the
// time per step.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => Number(process.env[name] ?? fallback);

/** The workloads, shared with the PyTorch peer through VIS_CONFIG (JSON). */
export const WORKLOADS = [
  {
    model: 'resnet20',
    size: 32,
    camLayer: 'layer3',
    recLayer: 'layer2',
    igSteps: env('VIS_RESNET20_IG', 50),
    recSteps: env('VIS_RESNET20_REC', 200),
    camRepeats: 3,
  },
  {
    model: 'resnet18',
    size: 224,
    camLayer: 'layer4',
    recLayer: 'layer2',
    igSteps: env('VIS_RESNET18_IG', 50),
    recSteps: env('VIS_RESNET18_REC', 50),
    camRepeats: 2,
  },
];

/** Milliseconds of `fn` (awaited), best of `repeats`. */
async function bestMs(fn, repeats) {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function worker() {
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('@convkit/backend');
  const { cifarResnet20, resnet18 } = await import('@convkit/zoo');
  const { gradCam, integratedGradients, reconstruct } = await import('@convkit/visualization');
  const report = await selectBackend();
  const result = { device: report.device, models: {} };
  for (const w of WORKLOADS) {
    const model = (w.model === 'resnet20' ? cifarResnet20() : resnet18()).eval();
    const x = tf.randomUniform([1, w.size, w.size, 3], 0, 1, 'float32', 1);
    const read = async (tensors) => {
      for (const t of tensors) await t.data();
      tf.dispose(tensors);
    };
    const cam = () => {
      const r = gradCam(model, x, { layer: w.camLayer, target: 0 });
      return read([r.weights, r.cam, r.heatmap]);
    };
    await cam(); // warm-up: kernels compiled, weights uploaded
    const gradCamMs = await bestMs(cam, w.camRepeats);
    const igMs = await bestMs(() => {
      const r = integratedGradients(model, x, { target: 0, steps: w.igSteps });
      return read([r.attribution, r.map, r.completenessError]);
    }, 1);
    const recMs = await bestMs(async () => {
      const r = await reconstruct(model, x, { layer: w.recLayer, steps: w.recSteps });
      await read([r.image]);
    }, 1);
    result.models[w.model] = { gradCamMs, igMs, recMs };
    x.dispose();
    model.dispose();
  }
  return result;
}

if (process.argv[2] === 'worker') {
  console.log(JSON.stringify(await worker()));
} else {
  const run = (command, args, extra = {}) => {
    process.stderr.write(`visualization: ${[command, ...args].join(' ')}\n`);
    try {
      const out = execFileSync(command, args, {
        cwd: here,
        encoding: 'utf8',
        env: { ...process.env, VIS_CONFIG: JSON.stringify(WORKLOADS), ...extra },
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 30 * 60_000,
      });
      return JSON.parse(out.trim().split('\n').at(-1));
    } catch (error) {
      return { error: error.message.split('\n')[0] };
    }
  };
  const cpu = (() => {
    try {
      const text = execFileSync('lscpu', { encoding: 'utf8' });
      const field = (name) => text.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim();
      return `${field('Model name')} (family ${field('CPU family')}, model ${field('Model')})`;
    } catch {
      return cpus()[0]?.model ?? 'unknown CPU';
    }
  })();
  const startLoad = loadavg()[0];
  // PyTorch first: its OpenMP threads slow down many times over when another process is busy.
  const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  const torch = existsSync('/usr/bin/python3')
    ? run('/usr/bin/python3', ['visualization_pytorch.py'], {
        BENCH_THREADS: '1',
        ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}),
      })
    : { error: 'no /usr/bin/python3 (apt-get install python3-torch python3-torchvision)' };
  const ours = run(process.execPath, ['visualization.mjs', 'worker']);
  const endLoad = loadavg()[0];
  const ms = (v) => (v === undefined ? 'n/a' : v.toFixed(1));
  const ratio = (theirs, mine) => (theirs && mine ? `${(theirs / mine).toFixed(2)}x` : 'n/a');
  const rows = WORKLOADS.flatMap((w) => {
    const t = torch.models?.[w.model] ?? {};
    const o = ours.models?.[w.model] ?? {};
    const name = w.model === 'resnet20' ? 'CIFAR ResNet-20, 32x32' : 'ResNet-18, 224x224';
    const row = (task, theirs, mine, steps) =>
      `| ${name} | ${task} | ${ms(theirs?.ms ?? theirs)}${theirs?.layout ? ` (${theirs.layout})` : ''} | ${ms(mine)} | ${
        steps ? `${ms((theirs?.ms ?? theirs) / steps)} / ${ms(mine / steps)}` : '-'
      } | ${ratio(theirs?.ms ?? theirs, mine)} |`;
    return [
      row(`Grad-CAM (\`${w.camLayer}\`)`, t.gradCam, o.gradCamMs),
      row(`integrated gradients, ${w.igSteps} steps`, t.ig, o.igMs, w.igSteps),
      row(`reconstruction from \`${w.recLayer}\`, ${w.recSteps} steps`, t.rec, o.recMs, w.recSteps),
    ];
  });
  const errors = [torch.error, ours.error].filter(Boolean);
  const markdown = `# Interpretability: convkit against PyTorch

Written by \`node bench/visualization.mjs\` on ${new Date().toISOString().slice(0, 10)}. Random weights, one random
image (batch 1), class 0 as the target; PyTorch first, then convkit, one after the other on this
machine. Ratios are PyTorch's time divided by ours (above 1: faster than PyTorch).

Machine: ${cpus().length} CPUs, ${cpu} (lscpu); Node ${process.version}; load average ${startLoad.toFixed(2)} at the start, ${endLoad.toFixed(2)} at the end.

| model | task | PyTorch ms (layout) | convkit ms | ms per step (PyTorch / convkit) | convkit / PyTorch speed |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

- convkit: ${ours.device ?? '?'} (the default Node backend), \`gradCam\`, \`integratedGradients\`
  (midpoint rule, 8 path points per batch) and \`reconstruct\` (Adam, learning rate 0.05, TV and
  range regularizers, jitter 1) of \`@convkit/visualization\`, results read back.
- PyTorch: the same formulas in \`visualization_pytorch.py\` (forward hook + \`autograd.grad\`, the
  same batching of path points, the same loss, Adam and jitter), 1 thread like the wasm backend,
  ${torch.blas ?? 'BLAS ?'}, best of NCHW and channels_last per task; torch ${torch.torch ?? '?'}.
- Grad-CAM in convkit is \`activationGradient\` of \`@convkit/layers\`: one forward pass for the
  activation, then a second with the activation fed back through a hook and differentiated; the
  PyTorch peer replaces the layer's output by a leaf in one forward pass. The reconstruction's
  time includes the target's features for each of the 9 jitter shifts (computed once each).
- Grad-CAM: best of ${WORKLOADS.map((w) => `${w.camRepeats} (${w.model})`).join(', ')} calls after a warm-up call; integrated gradients and
  reconstruction: one run each.
${errors.map((e) => `- Error: ${e}`).join('\n')}
`;
  const target = join(here, 'VISUALIZATION.md');
  writeFileSync(`${target}.tmp`, markdown);
  renameSync(`${target}.tmp`, target);
  process.stderr.write(`visualization: wrote ${target}\n`);
}
