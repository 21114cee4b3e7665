// Optimizer step time per million parameters: convkit vs tfjs-core's built-in optimizers, on
// the cpu and wasm backends. Not part of the test suite. Run from the repository root:
//
//   node packages/optimizers/bench/optimizer-step.bench.mjs [steps]
//
// The sources are bundled with esbuild (tfjs and @convkit/* left external) into bench/.out/.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importForBench } from '@convkit/tooling/bench';

const here = dirname(fileURLToPath(import.meta.url));
const { convkit, tf, selectBackend } = await importForBench(here, [
  "export * as convkit from '../src/index.ts';",
  "export * as tf from '@tensorflow/tfjs-core';",
  "export { selectBackend } from '@convkit/backend';",
]);

const STEPS = Number(process.argv[2] ?? 20);
const PARAMS = 1_000_000;
const SHAPES = [
  [500, 1000],
  [250, 1000],
  [250, 1000],
]; // 1M parameters in 3 variables

const PAIRS = [
  ['SGD', (v) => new convkit.SGD(v, { lr: 0.01 }), () => tf.train.sgd(0.01)],
  [
    'SGD momentum 0.9',
    (v) => new convkit.SGD(v, { lr: 0.01, momentum: 0.9 }),
    () => tf.train.momentum(0.01, 0.9),
  ],
  ['Adam', (v) => new convkit.Adam(v, { lr: 0.001 }), () => tf.train.adam(0.001, 0.9, 0.999, 1e-8)],
  [
    'RMSprop',
    (v) => new convkit.RMSprop(v, { lr: 0.01 }),
    () => tf.train.rmsprop(0.01, 0.99, 0, 1e-8),
  ],
];

function timeSteps(stepFn, vars) {
  for (let i = 0; i < 3; i++) stepFn();
  vars[0].dataSync();
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) stepFn();
  for (const v of vars) v.dataSync();
  return (performance.now() - start) / STEPS;
}

function measure(makeStep) {
  const vars = SHAPES.map((s) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 1)));
  const grads = Object.fromEntries(
    vars.map((v, i) => [v.name, tf.randomNormal(SHAPES[i], 0, 1, 'float32', 2 + i)]),
  );
  const { step, dispose } = makeStep(vars, grads);
  const ms = timeSteps(step, vars);
  dispose();
  tf.dispose([vars, Object.values(grads)]);
  return ms;
}

const rows = [];
for (const backend of ['cpu', 'wasm']) {
  await selectBackend({ backend });
  for (const [name, ours, theirs] of PAIRS) {
    const convkitMs = measure((vars, grads) => {
      const opt = ours(vars);
      return { step: () => opt.step(grads), dispose: () => opt.dispose() };
    });
    const tfjsMs = measure((_vars, grads) => {
      const opt = theirs();
      return { step: () => opt.applyGradients(grads), dispose: () => opt.dispose() };
    });
    const scale = 1e6 / PARAMS;
    rows.push({ backend, optimizer: name, convkitMs: convkitMs * scale, tfjsMs: tfjsMs * scale });
  }
}

console.log(`optimizer step, ms per 1M parameters (${STEPS} timed steps after 3 warm-up)\n`);
console.log('| backend | optimizer | convkit ms | tfjs-core ms | convkit / tfjs |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.backend} | ${r.optimizer} | ${r.convkitMs.toFixed(2)} | ${r.tfjsMs.toFixed(2)} | ${(r.convkitMs / r.tfjsMs).toFixed(2)} |`,
  );
}
