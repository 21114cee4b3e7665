// LeNet-5 training steps/s in a browser page, on webgpu, wasm and cpu, measured in one headless
// Chromium run (Debian's /usr/bin/chromium through playwright-core, the same runner as the
// browser test suites). On a machine without a GPU, Chromium's WebGPU adapter is SwiftShader
// (WebGPU emulated on the CPU), so the webgpu row measures that, not a GPU. Writes WEB.md.
//   node bench/web-training.mjs            (BENCH_WEB_STEPS=10 timed steps per backend)
import { renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importForBench } from '@convkit/tooling/bench';

const here = dirname(fileURLToPath(import.meta.url));
const steps = Number(process.env.BENCH_WEB_STEPS ?? 10);

const { runBrowserPage } = await importForBench(
  here,
  ["export { runBrowserPage } from '../packages/tooling/src/browser/run-page.ts';"],
  { external: ['esbuild', 'playwright-core'] },
);
const report = await runBrowserPage({
  entry: join(here, 'web', 'lenet-steps-page.ts'),
  resultGlobal: '__convkitWebBench',
  search: `?steps=${steps}`,
  timeoutMs: 1_200_000,
  log: (line) => console.error(line),
});
const { userAgent, results, error } = report.result;
if (error) throw new Error(`the bench page failed: ${error}`);

const cpu = `${cpus()[0].model} (${cpus().length} cores)`;
const rows = Object.entries(results).map(([backend, r]) =>
  r.error
    ? `| ${backend} | failed: ${r.error} | | | |`
    : `| ${backend} | ${r.device} | ${r.stepsPerSecond.toFixed(2)} | ${(r.stepsPerSecond / results.cpu.stepsPerSecond).toFixed(2)} | ${r.leakedTensors} |`,
);
const text = [
  '# LeNet-5 training in the browser (`node bench/web-training.mjs`)',
  '',
  `CPU: ${cpu}; load average at the end ${loadavg()[0].toFixed(1)}; ${new Date().toISOString().slice(0, 10)}.`,
  `Browser: ${userAgent} (headless, Debian's Chromium, \`--enable-unsafe-webgpu\`).`,
  "No GPU on this machine: the webgpu row runs on SwiftShader, Chromium's CPU emulation of a GPU,",
  'so it says how convkit behaves on WebGPU here, not how fast a real GPU is.',
  '',
  `\`fit\` from @convkit/train, LeNet-5 from @convkit/zoo, Adam, cross-entropy, batch 64 of 28x28x1,`,
  `${steps} timed steps per backend after 2 warm-up steps, one backend after another in one page`,
  '(seeded pseudo-random inputs: a step costs the same whatever the values).',
  '',
  '| backend | device | steps/s | vs cpu | tensors left after |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
].join('\n');
const out = join(here, 'WEB.md');
writeFileSync(`${out}.tmp`, text);
renameSync(`${out}.tmp`, out);
console.log(text);
