/**
 * The page of the visualization's WebGPU suite (bundled and opened in headless Chromium by
 * webgpu.test.ts): on the webgpu backend, the PyTorch fixture CNN's feature maps, Grad-CAM and a
 * short reconstruction, drawn into canvases with `drawToCanvas`; the pixels read back from each
 * canvas are checked against the same computation's tensor values, Grad-CAM against PyTorch,
 * and `tf.memory().numTensors` against where it started. Leaves the outcome, with a PNG of the
 * composed canvas, on `window`.
 */
import { type BackendReport, selectBackend } from '@convkit/backend';
import { findMismatch, RTOL } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, loadFixtureModel, tensorOf } from './models';
// The package's barrel, as an application would import it: bundling it for the browser also
// shows that no node-only module (node:fs, resvg, vega) is reached statically.
import {
  colormapTable,
  drawToCanvas,
  featureMapImages,
  featureMaps,
  gradCam,
  overlayHeatmap,
  type RgbaImage,
  reconstruct,
  tensorToImage,
  tileImages,
  toImageData,
  upscale,
  valuesToImage,
} from '../index';

export const WEBGPU_VISUALIZATION_RESULT = '__convkitVisualizationWebgpu';

export interface WebgpuVisualizationResult {
  done: true;
  fatal?: string;
  report?: BackendReport;
  /** Check name -> the problems found (empty when it passed). */
  checks: Record<string, string[]>;
  numTensors?: { before: number; after: number };
  /** The reconstruction's loss at every step on webgpu, and its first loss on cpu. */
  reconstruction?: { losses: number[]; cpuFirstLoss: number };
  /** `canvas.toDataURL('image/png')` of the composed canvas (input, Grad-CAM, reconstruction, maps). */
  screenshot?: string;
  ms: number;
}

/** Draw `image` into a new canvas on the page and read its pixels back through the 2d context. */
function drawAndRead(image: RgbaImage): Uint8ClampedArray {
  const canvas = document.createElement('canvas');
  document.body.appendChild(canvas);
  drawToCanvas(image, canvas);
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  return context.getImageData(0, 0, canvas.width, canvas.height).data;
}

/** Pixels whose RGB is not `expected(p)`, at most 5 reported; alpha must be 255. */
function comparePixels(
  label: string,
  pixels: Uint8ClampedArray,
  count: number,
  expected: (p: number) => [number, number, number],
): string[] {
  const problems: string[] = [];
  if (pixels.length !== 4 * count) {
    return [`${label}: the canvas holds ${pixels.length / 4} pixels; expected ${count}`];
  }
  for (let p = 0; p < count && problems.length < 5; p++) {
    const want = expected(p);
    const got = [pixels[4 * p], pixels[4 * p + 1], pixels[4 * p + 2], pixels[4 * p + 3]];
    if (got[0] !== want[0] || got[1] !== want[1] || got[2] !== want[2] || got[3] !== 255) {
      problems.push(
        `${label}: pixel ${p} is rgba(${got.join(', ')}); expected rgb(${want.join(', ')}) a=255`,
      );
    }
  }
  return problems;
}

/** The colormap index of `v` on `[lo, hi]`, as an independent restatement of the mapping. */
const level = (v: number, lo: number, hi: number) =>
  Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (hi - lo))));

const colour = (table: Uint8Array, l: number): [number, number, number] => [
  table[3 * l],
  table[3 * l + 1],
  table[3 * l + 2],
];

async function main(): Promise<WebgpuVisualizationResult> {
  const started = performance.now();
  const report = await selectBackend({ backend: 'webgpu' });
  const checks: Record<string, string[]> = {};
  const c = fixture.convNet;
  const model = loadFixtureModel('convNet');
  const x = tensorOf(c.input);
  const [, height, width] = x.shape as number[];
  const before = tf.memory().numTensors;

  // (1) Feature maps of layer '1' (the first ReLU), one viridis tile per channel of sample 0.
  const maps = featureMaps(model, x, '1');
  const mapValues = await maps.data();
  const channels = maps.shape[3] as number;
  maps.dispose();
  const mapImages = await featureMapImages(model, x, { layer: '1', sample: 0 });
  const viridis = colormapTable('viridis');
  checks['feature maps: canvas pixels are the tensor values through viridis'] = mapImages.flatMap(
    (image, k) => {
      const plane = Array.from({ length: height * width }, (_, p) => mapValues[p * channels + k]);
      const lo = Math.min(...plane);
      const hi = Math.max(...plane);
      return comparePixels(`channel ${k}`, drawAndRead(image), height * width, (p) =>
        colour(viridis, hi > lo ? level(plane[p], lo, hi) : 0),
      );
    },
  );

  // (2) Grad-CAM at layer '4' for the fixture's targets, against PyTorch and in the canvas.
  const cam = gradCam(model, x, { layer: c.layer, target: c.target });
  const heat = await cam.heatmap.data();
  const camValues = await cam.cam.data();
  const weightValues = await cam.weights.data();
  tf.dispose([cam.weights, cam.cam, cam.heatmap]);
  const tolerance = { rtol: RTOL.webgpu, atol: 1e-4 };
  checks['Grad-CAM equals PyTorch at webgpu tolerance'] = [
    ['weights', weightValues, c.gradCam.weights.values],
    ['cam', camValues, c.gradCam.cam.values],
    ['heatmap', heat, c.gradCam.heatmap.values],
  ]
    .map(([name, got, want]) => {
      const m = findMismatch(got as ArrayLike<number>, want as number[], tolerance);
      return m && `${name}: ${m}`;
    })
    .filter((m): m is string => m !== null);
  const heat0 = heat.subarray(0, height * width);
  const heatMax = Math.max(...heat0);
  const inferno = colormapTable('inferno');
  checks['Grad-CAM heatmap: canvas pixels are the tensor values through inferno'] = comparePixels(
    'heatmap',
    drawAndRead(
      valuesToImage(heat0, height, width, 1, { colormap: 'inferno', range: [0, heatMax] }),
    ),
    height * width,
    (p) => colour(inferno, level(heat0[p], 0, heatMax)),
  );

  // (3) A short reconstruction of sample 0 from layer '1', on webgpu and (first loss) on cpu.
  const x0 = tf.slice(x, [0, 0, 0, 0], [1, height, width, 3]);
  const inputValues = await x0.data();
  const lo = Math.min(...inputValues);
  const hi = Math.max(...inputValues);
  const options = { layer: '1', steps: 20, range: [lo, hi] as [number, number], seed: 3 };
  const rec = await reconstruct(model, x0, options);
  const recValues = await rec.image.data();
  const recImage = await tensorToImage(rec.image, { range: [lo, hi] });
  rec.image.dispose();
  const { losses } = rec;
  checks['reconstruction: the loss falls'] =
    losses.every(Number.isFinite) && losses[losses.length - 1] < 0.5 * losses[0]
      ? []
      : [
          `losses ${losses.map((l) => l.toPrecision(4)).join(', ')} do not fall below half the first`,
        ];
  checks['reconstruction: canvas pixels are the tensor values'] = comparePixels(
    'reconstruction',
    drawAndRead(recImage),
    height * width,
    (p) => [0, 1, 2].map((ch) => level(recValues[3 * p + ch], lo, hi)) as [number, number, number],
  );

  // (4) The composed picture: input | Grad-CAM over it | reconstruction | 4 feature maps.
  const inputImage = await tensorToImage(x0, { range: [lo, hi] });
  x0.dispose();
  const scale = 16;
  const composed = tileImages(
    [inputImage, overlayHeatmap(inputImage, heat0, { alpha: 0.6 }), recImage, ...mapImages].map(
      (image) => upscale(image, scale),
    ),
    { columns: 3 + mapImages.length, padding: 4 },
  );
  const canvas = document.createElement('canvas');
  document.body.appendChild(canvas);
  drawToCanvas(composed, canvas);
  const direct = toImageData(composed);
  checks['the composed canvas holds the composed image'] = comparePixels(
    'composed',
    (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
      0,
      0,
      canvas.width,
      canvas.height,
    ).data,
    composed.width * composed.height,
    (p) => [direct.data[4 * p], direct.data[4 * p + 1], direct.data[4 * p + 2]],
  );
  const screenshot = canvas.toDataURL('image/png');

  const after = tf.memory().numTensors;
  checks['numTensors is back where it started'] =
    after === before ? [] : [`numTensors went from ${before} to ${after}`];

  // The same reconstruction's first loss on cpu: webgpu computes the same objective.
  await selectBackend({ backend: 'cpu' });
  const cpuModel = loadFixtureModel('convNet');
  const cpuX0 = tf.tidy(() => tf.slice(tensorOf(c.input), [0, 0, 0, 0], [1, height, width, 3]));
  const cpuRec = await reconstruct(cpuModel, cpuX0, { ...options, steps: 1 });
  tf.dispose([cpuRec.image, cpuX0]);
  cpuModel.dispose();
  const cpuFirstLoss = cpuRec.losses[0];
  checks['reconstruction: first loss equals cpu at webgpu tolerance'] =
    Math.abs(losses[0] - cpuFirstLoss) <= 1e-4 + RTOL.webgpu * Math.abs(cpuFirstLoss)
      ? []
      : [`webgpu ${losses[0]}, cpu ${cpuFirstLoss}`];

  await selectBackend({ backend: 'webgpu' });
  tf.dispose(x);
  model.dispose();
  return {
    done: true,
    report,
    checks,
    numTensors: { before, after },
    reconstruction: { losses, cpuFirstLoss },
    screenshot,
    ms: performance.now() - started,
  };
}

main()
  .catch(
    (error): WebgpuVisualizationResult => ({
      done: true,
      fatal: String(error?.stack ?? error),
      checks: {},
      ms: 0,
    }),
  )
  .then((result) => {
    (window as unknown as Record<string, unknown>)[WEBGPU_VISUALIZATION_RESULT] = result;
  });
