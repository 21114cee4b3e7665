// The roofline of this machine for convkit's kernels, written to ROOFLINE.md: the WebAssembly
// SIMD f32 peak (wasm-peak.mjs; with relaxed-SIMD FMA when Node allows it), the native peaks
// (native-peak.c, compiled here with gcc), and each compute kernel of convkit's default backend
// (roofline-kernels.mjs) and of PyTorch on one thread (roofline_pytorch.py) as a fraction of
// them. One thread (the kernels also with FMA and on every core), best of short samples.
// `node bench/roofline.mjs` (BENCH_SECONDS per measurement, default 2).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = process.env.BENCH_SECONDS ?? '2';
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

function run(command, args, env = {}) {
  process.stderr.write(`roofline: ${[command, ...args].join(' ')}\n`);
  try {
    const out = execFileSync(command, args, {
      cwd: here,
      encoding: 'utf8',
      env: { ...process.env, BENCH_SECONDS: seconds, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 10 * 60_000,
    });
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch (error) {
    return { error: error.message.split('\n')[0] };
  }
}

function lscpu() {
  try {
    const text = execFileSync('lscpu', { encoding: 'utf8' });
    const field = (name) => text.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim();
    return {
      model: field('Model name') ?? 'unknown',
      family: field('CPU family'),
      modelNumber: field('Model'),
      cpus: field('CPU\\(s\\)'),
      flags: field('Flags') ?? '',
    };
  } catch {
    return { model: 'unknown (no lscpu)', flags: '' };
  }
}

const cpu = lscpu();
const startLoad = loadavg()[0];

let native = { error: 'gcc not found' };
if (existsSync('/usr/bin/gcc')) {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-roofline-'));
  const binary = join(dir, 'native-peak');
  try {
    execFileSync('/usr/bin/gcc', [
      '-O2',
      '-march=native',
      '-ffp-contract=off',
      '-o',
      binary,
      join(here, 'native-peak.c'),
    ]);
    native = run(binary, [seconds]);
  } catch (error) {
    native = { error: `gcc: ${error.message.split('\n')[0]}` };
  }
  rmSync(dir, { recursive: true, force: true });
}
const wasm = run(process.execPath, ['wasm-peak.mjs']);
const relaxed = run(process.execPath, ['--experimental-wasm-relaxed-simd', 'wasm-peak.mjs']);
const kernels = run(process.execPath, ['roofline-kernels.mjs'], { CONVKIT_WASM_THREADS: '1' });
// The same kernels with relaxed-SIMD FMA (convkit's own kernels use it; XNNPACK's do not), and on
// every core (the roof is then that many times one thread's).
const kernelsFma = run(
  process.execPath,
  ['--experimental-wasm-relaxed-simd', 'roofline-kernels.mjs'],
  { CONVKIT_WASM_THREADS: '1' },
);
const cores = availableParallelism();
const kernelsAll = run(process.execPath, ['roofline-kernels.mjs'], {
  CONVKIT_WASM_THREADS: String(cores),
});
const torch = existsSync('/usr/bin/python3')
  ? run(
      '/usr/bin/python3',
      ['roofline_pytorch.py'],
      existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {},
    )
  : { error: 'no /usr/bin/python3' };

const wasmPeak = wasm.simdMulAddGflops;
const nativePeak = native.avx512FmaGflops ?? native.avx2FmaGflops;
const nativeName = native.avx512FmaGflops ? 'AVX-512 FMA' : 'AVX2 FMA';
const f = (v) => (v === undefined ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const pct = (v, of) => (v && of ? `${((100 * v) / of).toFixed(0)}%` : 'n/a');

const WINOGRAD = 'convkit (Winograd F(2x2, 3x3), the default: GFLOP/s of the direct FLOPs)';
/** PyTorch's figure for a row: one per kernel, whichever algorithm convkit's row names. */
const peer = (key) => torch[key.replace(/Direct$/, '')];
const KERNELS = [
  ['convForward', '3x3 conv 28x28x64 -> 64, batch 1, forward', WINOGRAD],
  ['convForwardDirect', '  same, forward', 'convkit (direct SIMD, Winograd off)'],
  ['convBackwardInput', '  same, input gradient', `${WINOGRAD.slice(0, -1)}; rotated filter)`],
  [
    'convBackwardInputDirect',
    '  same, input gradient',
    'convkit (direct SIMD, rotated filter, Winograd off)',
  ],
  ['convBackwardFilter', '  same, filter gradient', WINOGRAD],
  ['convBackwardFilterDirect', '  same, filter gradient', 'convkit (direct SIMD, Winograd off)'],
  ['matMul', 'matMul 128x576 @ 576x128', 'convkit direct, as a 1x1 convolution'],
];

const markdown = `# Roofline

Written by \`node bench/roofline.mjs\` on ${new Date().toISOString().slice(0, 10)} (BENCH_SECONDS=${seconds});
every number is one thread unless its column says otherwise, the best of many short samples (about 2 ms for the peaks, a few ms
for the kernels, hence their small shapes), so that on a shared machine some samples run
undisturbed. Load average ${startLoad.toFixed(2)} at
the start.

CPU (lscpu): **${cpu.model}**, family ${cpu.family ?? '?'} model ${cpu.modelNumber ?? '?'}, ${cpu.cpus ?? '?'} CPUs;
${['avx2', 'fma', 'avx512f'].map((flag) => `${flag} ${new RegExp(`\\b${flag}\\b`).test(cpu.flags) ? 'yes' : 'no'}`).join(', ')}. Node ${process.version}.

## Peaks (GFLOP/s, f32, one thread)

| roof | GFLOP/s | what it is |
| --- | --- | --- |
| WASM SIMD, mul + add | ${f(wasmPeak)} | 12 chains of f32x4.mul then f32x4.add (plain WASM SIMD has no FMA); the roof of convkit's wasm kernels |
| WASM relaxed SIMD, relaxed_madd | ${relaxed.relaxedSimd ? f(relaxed.relaxedMaddGflops) : 'n/a'} | the same chains fused; Node 20 needs \`--experimental-wasm-relaxed-simd\` (${wasm.relaxedSimd ? 'on' : 'off'} by default here) |
| native 128-bit mul + add (SSE) | ${f(native.sseMulAddGflops)} | the same instructions natively: WASM SIMD reaches ${pct(wasmPeak, native.sseMulAddGflops)} of it |
| native AVX2 FMA | ${f(native.avx2FmaGflops)} | 256-bit fused multiply-add |
| native AVX-512 FMA | ${f(native.avx512FmaGflops)} | 512-bit fused multiply-add: the machine's peak |

## Kernels as a fraction of the roofs

| kernel | implementation | convkit GFLOP/s | % of WASM SIMD peak | % of native peak (${nativeName}) | convkit with FMA | convkit ${cores} threads | % of ${cores}x WASM SIMD peak | PyTorch 1 thread GFLOP/s | PyTorch % of native peak |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${KERNELS.map(([key, label, impl]) => `| ${label} | ${impl} | ${f(kernels[key])} | ${pct(kernels[key], wasmPeak)} | ${pct(kernels[key], nativePeak)} | ${f(kernelsFma[key])} | ${f(kernelsAll[key])} | ${pct(kernelsAll[key], cores * wasmPeak)} | ${f(peer(key))} | ${pct(peer(key), nativePeak)} |`).join('\n')}

convkit: ${kernels.device ?? kernels.error}; with FMA: ${kernelsFma.device ?? kernelsFma.error}; ${cores} threads: ${kernelsAll.device ?? kernelsAll.error}. PyTorch ${torch.torch ?? ''} (${torch.blas ?? torch.error}), best of NCHW and channels_last.

## What is left

- One thread of WASM SIMD tops out at ${f(wasmPeak)} GFLOP/s here, ${pct(wasmPeak, nativePeak)} of the native
  ${nativeName} peak (${f(nativePeak)}): 128-bit vectors and no FMA. No wasm kernel's own multiply-adds on one thread can
  exceed that roof; the native engines (PyTorch, onnxruntime) work under the native one.
- The direct kernels run at the fractions above of the WASM roof; the rest of their gap to
  PyTorch is the roof itself (WASM peak / native peak).
- Winograd F(2x2, 3x3) does 16 multiplications per 2x2 block of outputs where the direct
  convolution does 36 (2.25x fewer), plus its transforms, so its rate counted in the direct
  convolution's FLOPs can pass the WASM roof; its own multiply-adds run at that rate / 2.25.
  PyTorch's rows count the same direct FLOPs, whatever algorithm it picks.
- A target of 80 GFLOP/s for a 3x3 convolution is above one thread's WASM roof; with two threads
  the roof is about ${f(2 * (wasmPeak ?? 0))} GFLOP/s, so it needs ${pct(80, 2 * (wasmPeak ?? 0))} of the two-thread roof.
${[native, wasm, relaxed, kernels, kernelsFma, kernelsAll, torch]
  .filter((r) => r.error)
  .map((r) => `- Error: ${r.error}`)
  .join('\n')}
`;

const target = join(here, 'ROOFLINE.md');
writeFileSync(`${target}.tmp`, markdown);
renameSync(`${target}.tmp`, target);
process.stderr.write(`roofline: wrote ${target}\n`);
