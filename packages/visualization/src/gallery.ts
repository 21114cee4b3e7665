import { writeFileAtomic } from '@convkit/backend';
import { Conv2d, Linear, type Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  confusionMatrixSpec,
  type HistoryLike,
  perClassMetricsSpec,
  renderChartSvg,
  trainingCurvesSpec,
} from './charts';
import { featureMapImages, filterImages } from './features';
import { gradCam } from './grad-cam';
import { labeledGridSvg, overlayHeatmap, type RgbaImage, upscale, valuesToImage } from './image';
import { checkClassifierInput, shapeText } from './internal/checks';
import { joinPath, makeDirectory } from './internal/node';
import { modelDiagramSvg } from './model-diagram';
import { reconstruct } from './reconstruction';
import { svgToPng } from './render-node';
import { saliency } from './saliency';

export interface GalleryOptions {
  /** A few test images as the model takes them (normalized), `[N, H, W, C]`. */
  images: tf.Tensor;
  /** Their true classes. */
  labels: ArrayLike<number>;
  classNames: readonly string[];
  /** Training history (fit's `history`, a `History`, series or CSV text); charts skipped if absent. */
  history?: HistoryLike;
  /** Test confusion matrix (rows true, columns predicted); charts skipped if absent. */
  confusion?: number[][];
  /** Where the files go (created). */
  outDir: string;
  /** The valid input range in the model's units. Default the images' min..max. */
  inputRange?: [number, number];
  /** Layers reconstructed. Default every stage output (see `galleryLayers`). */
  reconstructionLayers?: string[];
  /** Reconstruction steps per layer. Default 200. */
  reconstructionSteps?: number;
  /** Images whose feature maps are drawn. Default 3. */
  featureMapImages?: number;
}

export interface GalleryResult {
  /** Every file written, in `outDir`. */
  files: string[];
  /** Per reconstructed layer: Pearson correlation of the reconstruction with the original. */
  reconstructions: { layer: string; type: string; correlation: number; featureLoss: number }[];
  /** Indices into `images` of the correct and the wrong prediction explained (null if none). */
  correct: number | null;
  wrong: number | null;
}

const ACTIVATIONS = new Set([
  'ReLU',
  'ReLU6',
  'LeakyReLU',
  'ELU',
  'SELU',
  'GELU',
  'SiLU',
  'Tanh',
  'Sigmoid',
  'Mish',
  'Hardswish',
  'PReLU',
]);

/**
 * The layers a gallery looks at, by state-dict path: the convolutions (each with its
 * activation when one follows it), and the stage outputs for reconstruction: activated
 * convolutions, pooling layers and linear layers (activated when an activation follows), in
 * order. Follows Sequential order; other containers are walked depth first.
 */
export function galleryLayers(model: Module): {
  convolutions: string[];
  activated: string[];
  stages: string[];
} {
  const leaves = model.namedModules().filter(([, m]) => m.namedChildren().length === 0);
  const convolutions: string[] = [];
  const activated: string[] = [];
  const stages: string[] = [];
  leaves.forEach(([path, m], i) => {
    const next = leaves[i + 1];
    const then = next && ACTIVATIONS.has(next[1].constructor.name) ? next[0] : path;
    if (m instanceof Conv2d) {
      convolutions.push(path);
      activated.push(then);
      stages.push(then);
    } else if (m instanceof Linear) {
      stages.push(then);
    } else if (/Pool/.test(m.constructor.name)) {
      stages.push(path);
    }
  });
  return { convolutions, activated, stages };
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * Write a gallery for a trained image classifier into `outDir` (Node): the first convolution's
 * filters, feature maps of a few images, reconstructions of one image from every stage,
 * saliency and Grad-CAM for a correct and a wrong prediction, the training curves, the
 * confusion matrix, per-class metrics and the model diagram, as PNG (and the diagram as SVG),
 * plus `gallery.json` with the reconstruction correlations. Leaves no tensors behind.
 */
export async function writeGallery(model: Module, options: GalleryOptions): Promise<GalleryResult> {
  const fn = 'writeGallery';
  const { images, classNames, outDir } = options;
  const { numClasses } = checkClassifierInput(fn, model, images);
  const n = images.shape[0];
  const labels = Array.from(options.labels);
  if (labels.length !== n) {
    throw new Error(
      `${fn}: option 'labels' must have one class per image (${n}); received ${labels.length}`,
    );
  }
  if (classNames.length !== numClasses) {
    throw new Error(
      `${fn}: option 'classNames' must name the model's ${numClasses} classes; received ${classNames.length}`,
    );
  }
  const [, height, width, channels] = images.shape;
  const layers = galleryLayers(model);
  if (layers.convolutions.length === 0) throw new Error(`${fn}: the model has no Conv2d to show`);
  await makeDirectory(outDir);
  const files: string[] = [];
  const write = async (name: string, data: Uint8Array | string) => {
    await writeFileAtomic(await joinPath(outDir, name), data);
    files.push(name);
  };
  const pixels = Array.from(await images.data());
  const range = options.inputRange ?? [Math.min(...pixels), Math.max(...pixels)];
  const sampleSize = height * width * channels;
  const display = (values: ArrayLike<number>, scale = 4) =>
    upscale(valuesToImage(values, height, width, channels === 3 ? 3 : 1, { range }), scale);
  const sample = (i: number) => pixels.slice(i * sampleSize, (i + 1) * sampleSize);
  const one = (i: number) => tf.tensor(sample(i), [1, height, width, channels]);

  // 1. The first convolution's filters.
  const filters = await filterImages(model, { layer: layers.convolutions[0], scale: 12 });
  await write(
    'conv1-filters.png',
    await svgToPng(
      labeledGridSvg(
        filters.images.map((image, k) => ({ image, label: filters.labels[k] })),
        {
          columns: filters.columns,
          title: `filters of ${layers.convolutions[0]} (${model.getSubmodule(layers.convolutions[0]).constructor.name})`,
        },
      ),
    ),
  );

  // 2. Feature maps of a few images at every activated convolution.
  const count = Math.min(n, options.featureMapImages ?? 3);
  for (const layer of layers.activated) {
    const tiles: { image: RgbaImage; label?: string }[] = [];
    let columns = 1;
    for (let i = 0; i < count; i++) {
      const x = one(i);
      const maps = await featureMapImages(model, x, { layer });
      x.dispose();
      columns = maps.length + 1;
      tiles.push({
        image: display(sample(i), Math.max(1, Math.round(84 / width))),
        label: classNames[labels[i]],
      });
      for (const [k, image] of maps.entries()) {
        tiles.push({
          image: upscale(image, Math.max(1, Math.round(84 / image.width))),
          label: i === 0 ? `ch ${k}` : undefined,
        });
      }
    }
    await write(
      `feature-maps-${layer.replace(/\./g, '_')}.png`,
      await svgToPng(
        labeledGridSvg(tiles, { columns, title: `feature maps after ${layer}`, fontSize: 10 }),
      ),
    );
  }

  // 3. Predictions, then saliency and Grad-CAM for a correct and a wrong one.
  const argMax = tf.tidy(() => tf.argMax(model.forward(images), -1));
  const predicted = Array.from(await argMax.data());
  argMax.dispose();
  const correct = predicted.findIndex((p, i) => p === labels[i]);
  const wrong = predicted.findIndex((p, i) => p !== labels[i]);
  const camLayer = layers.activated[layers.activated.length - 1];
  const attributionTiles: { image: RgbaImage; label?: string }[] = [];
  for (const [kind, i] of [
    ['correct', correct],
    ['wrong', wrong],
  ] as const) {
    if (i < 0) continue;
    const x = one(i);
    const sal = saliency(model, x, { target: predicted[i] });
    const cam = gradCam(model, x, { layer: camLayer, target: predicted[i] });
    const [salMap, heat] = await Promise.all([sal.map.data(), cam.heatmap.data()]);
    tf.dispose([x, sal, cam] as tf.TensorContainer);
    const base = valuesToImage(sample(i), height, width, channels === 3 ? 3 : 1, { range });
    attributionTiles.push(
      { image: upscale(base, 4), label: `${kind}:\n${classNames[labels[i]]}` },
      {
        image: upscale(valuesToImage(salMap, height, width, 1, { colormap: 'inferno' }), 4),
        label: 'saliency',
      },
      {
        image: upscale(overlayHeatmap(base, heat, { alpha: 0.55 }), 4),
        label: `Grad-CAM:\n${classNames[predicted[i]]}`,
      },
    );
  }
  if (attributionTiles.length) {
    await write(
      'attributions.png',
      await svgToPng(
        labeledGridSvg(attributionTiles, {
          columns: 3,
          title: `saliency and Grad-CAM (${camLayer})`,
          fontSize: 11,
        }),
      ),
    );
  }

  // 4. Reconstructions of one image from every stage.
  const source = Math.max(correct, 0); // the correct prediction, else the first image
  const target = one(source);
  const reconstructions: GalleryResult['reconstructions'] = [];
  const recTiles: { image: RgbaImage; label?: string }[] = [
    { image: display(sample(source)), label: 'original' },
  ];
  for (const layer of options.reconstructionLayers ?? layers.stages) {
    const rec = await reconstruct(model, target, {
      layer,
      steps: options.reconstructionSteps ?? 200,
      range: range as [number, number],
      learningRate: 0.05 * (range[1] - range[0]),
      tvWeight: 0.02,
      jitter: 1,
    });
    const values = await rec.image.data();
    rec.image.dispose();
    const correlation = pearson(values, sample(source));
    const type = model.getSubmodule(layer).constructor.name;
    reconstructions.push({
      layer,
      type,
      correlation,
      featureLoss: rec.featureLosses[rec.featureLosses.length - 1],
    });
    recTiles.push({
      image: display(values),
      label: `${layer} ${type}\nr = ${correlation.toFixed(2)}`,
    });
  }
  target.dispose();
  await write(
    'reconstructions.png',
    await svgToPng(
      labeledGridSvg(recTiles, {
        columns: Math.min(recTiles.length, 4),
        title: 'reconstruction from each layer',
        fontSize: 11,
      }),
    ),
  );

  // 5. Charts and the model diagram.
  if (options.history)
    await write(
      'training-curves.png',
      await svgToPng(await renderChartSvg(trainingCurvesSpec(options.history))),
    );
  if (options.confusion) {
    await write(
      'confusion-matrix.png',
      await svgToPng(await renderChartSvg(confusionMatrixSpec(options.confusion, classNames))),
    );
    await write(
      'per-class-metrics.png',
      await svgToPng(await renderChartSvg(perClassMetricsSpec(options.confusion, classNames))),
    );
  }
  const diagram = modelDiagramSvg(model, [1, height, width, channels]);
  await write('model.svg', diagram);
  await write('model.png', await svgToPng(diagram));
  const result: GalleryResult = {
    files: [],
    reconstructions,
    correct: correct >= 0 ? correct : null,
    wrong: wrong >= 0 ? wrong : null,
  };
  await write(
    'gallery.json',
    `${JSON.stringify({ ...result, files: undefined, images: shapeText(images.shape), camLayer, predicted: predicted.slice(0, count) }, null, 2)}\n`,
  );
  result.files = files;
  return result;
}
