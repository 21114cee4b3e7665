// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results. The
// only wrapping: the example writes gradcam.png into the working directory, a temporary one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { decode } from 'fast-png';
import { afterAll, expect, it } from 'vitest';

const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'visualization-readme-'));
process.chdir(directory);
afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import {
  activationStats,
  confusionMatrixSpec,
  featureMapGrid,
  filterGrid,
  gradCam,
  gradCamPlusPlus,
  integratedGradients,
  maximizeActivation,
  modelDiagramSvg,
  occlusion,
  overlayHeatmap,
  parallelCoordinatesSpec,
  parameterImportance,
  reconstruct,
  renderChartSvg,
  saliency,
  smoothGrad,
  svgToPng,
  tensorToImage,
  trainingCurvesSpec,
  writePng,
} from '@convkit/visualization';
import { writeFile } from 'node:fs/promises';

await selectBackend({ backend: 'wasm' });
// Your trained model (here an untrained one); layers are addressed by state-dict path.
const model = new Sequential(
  new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, padding: 2 }), // '0'
  new ReLU(), // '1'
  new MaxPool2d({ kernelSize: 2 }), // '2'
  new Flatten(),
  new Linear({ inFeatures: 14 * 14 * 6, outFeatures: 10 }), // '4'
).eval();
const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 7); // NHWC, as the model takes it

const cam = gradCam(model, x, { layer: '1', target: 3 }); // weights [1, 6], cam and heatmap [1, 28, 28]
const sal = saliency(model, x, { target: 3 }); // gradient [1, 28, 28, 1], map [1, 28, 28]
const ig = integratedGradients(model, x, { target: 3, steps: 32 }); // attribution, completenessError [1]
const maps = await featureMapGrid(model, x, { layer: '1', scale: 4 }); // one viridis tile per channel
const overlay = overlayHeatmap(await tensorToImage(x), await cam.heatmap.data()); // inferno over the input
await writePng('gradcam.png', overlay); // Node; encodePng(overlay) gives the PNG bytes anywhere
const rec = await reconstruct(model, x, { layer: '1', steps: 60, range: [0, 1] }); // image, losses

const sg = smoothGrad(model, x, { target: 3, samples: 8, noiseStd: 0.1 }); // mean of noisy gradients
const campp = gradCamPlusPlus(model, x, { layer: '1', target: 3 }); // Grad-CAM++: same shapes as gradCam
const occ = occlusion(model, x, { target: 3, window: 7 }); // score drop per pixel [1, 28, 28]
const filters = await filterGrid(model, { layer: '0' }); // conv1's 6 filters, grey (1 input channel)
const stats = await activationStats(model, x, '1'); // per channel: mean, std, min, max, fraction > 0
const dream = await maximizeActivation(model, {
  inputShape: [1, 28, 28, 1],
  objective: { layer: '1', channel: 2 }, // or { layer, unit } or { logit }
  steps: 40,
  transforms: { jitter: 2 },
}); // image in [0, 1], objectives per step
const curves = trainingCurvesSpec({ loss: [0.9, 0.5, 0.4], accuracy: [0.71, 0.82, 0.85] }); // or `fit`'s history
const confusion = confusionMatrixSpec(
  [
    [8, 2],
    [1, 9],
  ],
  ['shirt', 'coat'],
); // rows: true class, columns: predicted
const chartSvg = await renderChartSvg(curves); // SVG text (needs vega, vega-lite)
const diagramPng = await svgToPng(modelDiagramSvg(model, [1, 28, 28, 1])); // Node, @resvg/resvg-js
// A hyperparameter search's trials (e.g. @convkit/tune's `study.trials`: plain records).
const trials = [
  { number: 0, params: { lr: 0.1, optimizer: 'sgd' }, state: 'complete', value: 0.62 },
  { number: 1, params: { lr: 0.003, optimizer: 'adam' }, state: 'complete', value: 0.88 },
  { number: 2, params: { lr: 0.01, optimizer: 'sgd' }, state: 'pruned', value: 0.4 },
  { number: 3, params: { lr: 0.001, optimizer: 'adam' }, state: 'complete', value: 0.86 },
];
const spec = parallelCoordinatesSpec(trials, { direction: 'maximize' }); // Vega-Lite JSON
await writeFile('trials.png', await svgToPng(await renderChartSvg(spec))); // vega + resvg peers
const importance = parameterImportance(trials); // [{ param, importance, effect, ... }], best first
// README example end

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example computes every result and writes the PNG', async () => {
  expect(cam.heatmap.shape).toEqual([1, 28, 28]);
  expect(sal.map.shape).toEqual([1, 28, 28]);
  expect(ig.attribution.shape).toEqual([1, 28, 28, 1]);
  expect(Math.abs((await ig.completenessError.data())[0])).toBeLessThan(0.05);
  expect([maps.width, maps.height]).toEqual([3 * 112 + 4 * 2, 2 * 112 + 3 * 2]);
  const png = decode(readFileSync(join(directory, 'gradcam.png')));
  expect([png.width, png.height]).toEqual([28, 28]);
  expect(rec.image.shape).toEqual([1, 28, 28, 1]);
  expect(rec.losses.at(-1)).toBeLessThan(rec.losses[0] * 0.5);
  expect(sg.map.shape).toEqual([1, 28, 28]);
  expect(campp.heatmap.shape).toEqual([1, 28, 28]);
  expect(occ.shape).toEqual([1, 28, 28]);
  expect([filters.width, filters.height]).toEqual([6 * 40 + 7 * 2, 40 + 2 * 2]); // one row of 5x5 filters at 8x
  expect(stats.length).toBe(6);
  expect(stats.every((s) => s.max >= s.mean && s.mean >= s.min)).toBe(true);
  expect(dream.image.shape).toEqual([1, 28, 28, 1]);
  expect(dream.objectives.at(-1)).toBeGreaterThan(dream.objectives[0]);
  expect(JSON.stringify(confusion)).toContain('coat');
  expect(chartSvg.startsWith('<svg')).toBe(true);
  expect(chartSvg).toContain('accuracy');
  expect([...diagramPng.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  expect(decode(readFileSync(join(directory, 'trials.png'))).width).toBeGreaterThan(200);
  expect((spec.layer as { data: { values: unknown[] } }[])[1].data.values).toHaveLength(3 * 2);
  expect(importance.map((r) => r.param)).toEqual(['optimizer', 'lr']);
  expect(importance[0].effect).toBeGreaterThan(0.9); // adam 0.88 / 0.86 against sgd 0.62
  tf.dispose([x, cam, sal, ig, rec.image, sg, campp, occ, dream.image] as tf.TensorContainer);
  model.dispose();
});
