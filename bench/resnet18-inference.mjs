// ResNet-18 inference (224x224, 1000 classes) at batch 1 and 8: convkit's model exported with
// @convkit/onnx and run in onnxruntime-node on BENCH_THREADS threads, and the same model on
// convkit's default Node backend (tfjs wasm + convkit kernels, CONVKIT_WASM_THREADS threads;
// skipped with BENCH_CONVKIT=0). `node resnet18-inference.mjs worker` prints one JSON line; without
// arguments, for 1 and then 2 threads, it runs the PyTorch peer (resnet18_pytorch.py:
// torchvision's resnet18, the same thread count, OpenBLAS, best of NCHW and channels_last) and
// then the worker, and writes RESNET18-INFERENCE.md with the ratios. Every figure is the best
// of repeated calls within BENCH_SECONDS (default 3) per workload.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const BATCHES = [1, 8];

/** Best milliseconds of `fn` (after a warm-up call) within the time budget, at least 3 calls. */
async function bestMs(fn) {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  const end = performance.now() + seconds * 1000;
  for (let n = 0; n < 3 || performance.now() < end; n++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function worker() {
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('@convkit/backend');
  const { createOnnxSession, exportOnnx } = await import('@convkit/onnx');
  const { resnet18 } = await import('@convkit/zoo');
  const report = await selectBackend();
  const model = resnet18().eval();
  const bytes = await exportOnnx(model, { inputShape: [1, 224, 224, 3] });
  const engine = await createOnnxSession(bytes, { threads });
  const result = { device: report.device, threads, onnx: {}, convkit: {} };
  // convkit first, with the onnxruntime session idle: right after its runs, onnxruntime's
  // threads still spin for a core (the 2-thread convkit rows ran 1.3x slower after them).
  const inputs = BATCHES.map((batch) =>
    tf.randomUniform([batch, 224, 224, 3], -1, 1, 'float32', 1),
  );
  if (process.env.BENCH_CONVKIT !== '0') {
    for (const [i, batch] of BATCHES.entries()) {
      result.convkit[batch] = await bestMs(async () => {
        const y = tf.tidy(() => model.forward(inputs[i]));
        await y.data();
        y.dispose();
      });
    }
  }
  for (const [i, batch] of BATCHES.entries()) {
    // The engine's own work (NCHW data in, NCHW out), as a server that receives NCHW images.
    const nchw = tf.transpose(inputs[i], [0, 3, 1, 2]);
    const data = await nchw.data();
    result.onnx[batch] = await bestMs(() => engine.run(data, nchw.shape));
    nchw.dispose();
  }
  tf.dispose(inputs);
  await engine.dispose();
  return result;
}

if (process.argv[2] === 'worker') {
  console.log(JSON.stringify(await worker()));
} else {
  const run = (command, args, env = {}) => {
    process.stderr.write(`resnet18: ${[command, ...args].join(' ')}\n`);
    try {
      const out = execFileSync(command, args, {
        cwd: here,
        encoding: 'utf8',
        env: { ...process.env, BENCH_SECONDS: String(seconds), ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 20 * 60_000,
      });
      return JSON.parse(out.trim().split('\n').at(-1));
    } catch (error) {
      return { error: error.message.split('\n')[0] };
    }
  };
  const startLoad = loadavg()[0];
  const cpu = (() => {
    try {
      const text = execFileSync('lscpu', { encoding: 'utf8' });
      const field = (name) => text.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim();
      return `${field('Model name')} (family ${field('CPU family')}, model ${field('Model')})`;
    } catch {
      return cpus()[0]?.model ?? 'unknown CPU';
    }
  })();
  // PyTorch first: its OpenMP threads slow down many times over when another process is busy.
  const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  const runs = [1, 2].map((n) => {
    const env = { BENCH_THREADS: String(n) };
    const torch = existsSync('/usr/bin/python3')
      ? run('/usr/bin/python3', ['resnet18_pytorch.py'], {
          ...env,
          ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}),
        })
      : { error: 'no /usr/bin/python3 (apt-get install python3-torch python3-torchvision)' };
    const ours = run(process.execPath, ['resnet18-inference.mjs', 'worker'], {
      ...env,
      CONVKIT_WASM_THREADS: String(n),
    });
    return { threads: n, torch, ours };
  });
  const ms = (v) => (v === undefined ? 'n/a' : v.toFixed(1));
  const ratio = (theirs, mine) => (theirs && mine ? `${(theirs / mine).toFixed(2)}x` : 'n/a');
  const rows = runs.flatMap(({ threads: n, torch, ours }) =>
    BATCHES.map(
      (b) =>
        `| ${n} | ${b} | ${ms(torch[b]?.ms)} (${torch[b]?.layout ?? '?'}) | ${ms(ours.onnx?.[b])} | ${ms(ours.convkit?.[b])} | ${ratio(torch[b]?.ms, ours.onnx?.[b])} | ${ratio(torch[b]?.ms, ours.convkit?.[b])} |`,
    ),
  );
  const torch = runs[0].torch;
  const errors = runs.flatMap((r) => [r.torch.error, r.ours.error]).filter(Boolean);
  const markdown = `# ResNet-18 inference: ONNX and convkit against PyTorch

Written by \`node bench/resnet18-inference.mjs\` on ${new Date().toISOString().slice(0, 10)}: 224x224 inputs,
1000 classes, the best of repeated calls within ${seconds} s per cell, PyTorch first, then convkit,
in one run on this machine. Ratios are PyTorch's time divided by ours (above 1: faster than PyTorch).

Machine: ${cpus().length} CPUs, ${cpu} (lscpu); Node ${process.version}; load average ${startLoad.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end
(on a shared machine the 2-thread rows suffer most: OpenMP and onnxruntime threads spin-wait
for a core that another process holds).

| threads | batch | PyTorch ms (layout) | convkit ONNX in onnxruntime-node ms | convkit default backend ms | ONNX / PyTorch speed | default backend / PyTorch speed |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

- PyTorch: torchvision's resnet18, eval, \`torch.inference_mode\`, the row's threads (\`torch.set_num_threads\`), ${torch.blas ?? 'BLAS ?'}, best of NCHW and channels_last; torch ${torch.torch ?? '?'}.
- ONNX: convkit's resnet18 exported with \`exportOnnx\` (opset 17, BatchNorm kept; onnxruntime fuses it), \`createOnnxSession(bytes, { threads })\` with the row's threads, timing \`engine.run\` on NCHW data (onnxruntime-node 1.31).
- convkit default backend: ${runs.map((r) => r.ours.device ?? '?').join('; ')} (the row's threads, \`CONVKIT_WASM_THREADS\`), \`model.forward\` on NHWC, output read back.
${errors.map((e) => `- Error: ${e}`).join('\n')}
`;
  const target = join(here, 'RESNET18-INFERENCE.md');
  writeFileSync(`${target}.tmp`, markdown);
  renameSync(`${target}.tmp`, target);
  process.stderr.write(`resnet18: wrote ${target}\n`);
}
