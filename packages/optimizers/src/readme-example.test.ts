// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
// The only wrapping: a backend, selected before the example (the README leaves the choice
// to the reader).
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { selectBackend } from '@convkit/backend';
import { expect, it, vi } from 'vitest';

await selectBackend({ backend: 'cpu' });
const logged: unknown[][] = [];
vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
  logged.push(args);
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { Adam, clipGradNorm, CosineAnnealingLR, SGD } from '@convkit/optimizers';

const w = tf.variable(tf.randomNormal([3, 1]));
const b = tf.variable(tf.zeros([1]));
const x = tf.randomNormal([32, 3]);
const y = tf.randomNormal([32, 1]);
const loss = () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;

// Plain variables, one step at a time.
const adam = new Adam([w, b], { lr: 1e-3 });
const { value, grads } = tf.variableGrads(loss, [w, b]); // grads keyed by variable name
clipGradNorm(grads, 1.0).dispose(); // replaces the entries with clipped gradients
adam.step(grads);
tf.dispose([value, grads]);

// Parameter groups with their own options, and a schedule stepped once per epoch.
const sgd = new SGD(
  [
    { params: [w], lr: 0.1 },
    { params: [b], weightDecay: 0 },
  ],
  {
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 5e-4,
  },
);
const schedule = new CosineAnnealingLR(sgd, { tMax: 100, etaMin: 1e-4 });
for (let epoch = 0; epoch < 100; epoch++) {
  sgd.minimize(loss); // = variableGrads over the optimizer's variables + step
  schedule.step();
}
console.log(schedule.getLastLr(), sgd.paramGroups[0].lr);

// Save and resume exactly (JSON: options, step counts, state tensors as { shape, data }).
const saved = JSON.stringify({ optimizer: sgd.stateDict(), schedule: schedule.stateDict() });
sgd.dispose(); // frees the optimizer's state tensors
// README example end

vi.restoreAllMocks();

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example trains, anneals the lr to etaMin and saves a JSON state', () => {
  // After tMax = 100 epochs the cosine schedule sits at etaMin in both groups.
  const [lastLr, lr0] = logged[0] as [number[], number];
  expect(lastLr).toHaveLength(2);
  for (const lr of lastLr) expect(lr).toBeCloseTo(1e-4, 10);
  expect(lr0).toBeCloseTo(1e-4, 10);

  // 100 SGD steps reach (about) the least-squares fit: no worse than the zero predictor.
  const fitted = tf.tidy(() => loss().dataSync()[0]);
  const zeroPredictor = tf.tidy(() => tf.mean(tf.square(y)).dataSync()[0]);
  expect(Number.isFinite(fitted)).toBe(true);
  expect(fitted).toBeLessThanOrEqual(zeroPredictor + 1e-4);

  // The JSON resumes exactly: a new optimizer loaded from it saves the same state (momentum
  // buffers of both variables after 100 steps, the annealed lrs).
  const state = JSON.parse(saved);
  expect(Object.keys(state)).toEqual(['optimizer', 'schedule']);
  expect(state.optimizer.type).toBe('SGD');
  expect(Object.values(state.optimizer.state).map((s: any) => s.step)).toEqual([100, 100]);
  const resumed = new SGD([{ params: [w] }, { params: [b] }], { lr: 0.01, momentum: 0.9 });
  resumed.loadStateDict(state.optimizer);
  expect(JSON.stringify(resumed.stateDict())).toBe(JSON.stringify(state.optimizer));
  resumed.dispose();
  adam.dispose();
  tf.dispose([w, b, x, y]);
});
