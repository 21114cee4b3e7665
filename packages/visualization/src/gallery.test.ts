// Trains LeNet-5 (the main job's Sequential) briefly on real Fashion-MNIST and writes the
// gallery into a temporary directory. With CONVKIT_GALLERY_OUT=<dir> it trains longer and writes
// the full gallery there; the README's images (docs/) were copied from such a run:
//   CONVKIT_GALLERY_OUT=/tmp/gallery npx vitest run packages/visualization/src/gallery.test.ts
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { manualSeed } from '@convkit/backend';
import {
  DataLoader,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
  normalize,
  subset,
} from '@convkit/data';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import { confusionMatrix } from '@convkit/losses';
import { Adam } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import { fit, predict } from '@convkit/train';
import * as tf from '@tensorflow/tfjs-core';
import { decode } from 'fast-png';
import { expect, it } from 'vitest';
import { galleryLayers, writeGallery } from './gallery';

const DATA = '/usr/share/datasets/fashion-mnist';
const MEAN = 0.286;
const STD = 0.353;

function lenet5() {
  return new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, padding: 2 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 400, outFeatures: 120 }),
    new ReLU(),
    new Linear({ inFeatures: 120, outFeatures: 84 }),
    new ReLU(),
    new Linear({ inFeatures: 84, outFeatures: 10 }),
  );
}

it('galleryLayers finds the convolutions and the stage outputs of LeNet-5', async () => {
  await useBackend('wasm');
  const layers = galleryLayers(lenet5());
  expect(layers).toEqual({
    convolutions: ['0', '3'],
    activated: ['1', '4'],
    stages: ['1', '2', '4', '5', '8', '10', '11'],
  });
});

it.skipIf(!existsSync(DATA))(
  'a briefly trained LeNet-5 gets a gallery whose reconstructions fade with depth',
  async () => {
    await useBackend('wasm');
    manualSeed(0);
    const trainAll = await loadFashionMnist({ path: DATA, split: 'train' });
    const testAll = await loadFashionMnist({ path: DATA, split: 'test' });
    const range = (k: number) => Int32Array.from({ length: k }, (_, i) => i);
    const transform = normalize({ mean: MEAN, std: STD });
    // The README's gallery comes from a longer run (20,000 images, 3 epochs).
    const readme = Boolean(process.env.CONVKIT_GALLERY_OUT);
    const train = new DataLoader(subset(trainAll, range(readme ? 20000 : 4000)), {
      batchSize: 64,
      shuffle: true,
      seed: 0,
      transform,
    });
    const testSet = subset(testAll, range(1000));
    const model = lenet5();
    const optimizer = new Adam(model.trainableVariables(), { lr: 3e-3 });
    const result = await fit(model, {
      data: train,
      optimizer,
      epochs: readme ? 3 : 2,
      metrics: ['accuracy'],
      validationData: new DataLoader(subset(testAll, range(500)), { batchSize: 250, transform }),
    });
    const logits = await predict(model, new DataLoader(testSet, { batchSize: 500, transform }));
    const confusion = await confusionMatrix(logits, testAll.labels.subarray(0, 1000), {
      numClasses: 10,
    });
    logits.dispose();
    model.eval();
    // 32 test images as the model takes them (normalized).
    const pixels = Float32Array.from(
      testAll.images.subarray(0, 32 * 784),
      (v) => (v / 255 - MEAN) / STD,
    );
    const images = tf.tensor4d(pixels, [32, 28, 28, 1]);
    const out = process.env.CONVKIT_GALLERY_OUT
      ? resolve(process.env.CONVKIT_GALLERY_OUT)
      : mkdtempSync(join(tmpdir(), 'gallery-'));
    const before = tf.memory().numTensors;
    const started = performance.now();
    const gallery = await writeGallery(model, {
      images,
      labels: testAll.labels.subarray(0, 32),
      classNames: FASHION_MNIST_CLASSES,
      history: result.history,
      confusion,
      outDir: out,
      inputRange: [-MEAN / STD, (1 - MEAN) / STD],
      // The test checks the first, a middle and the last stage with fewer steps; the README's
      // images use every stage and the default 200 steps.
      ...(process.env.CONVKIT_GALLERY_OUT
        ? {}
        : { reconstructionLayers: ['1', '5', '11'], reconstructionSteps: 100 }),
    });
    expect(tf.memory().numTensors).toBe(before);
    console.log(
      `gallery in ${out} (${((performance.now() - started) / 1000).toFixed(1)} s): val accuracy ${result.history.at(-1)?.valMetrics?.accuracy.toFixed(3)}; reconstruction correlation with the original: ${gallery.reconstructions
        .map(
          (r) =>
            `${r.layer} ${r.type} ${r.correlation.toFixed(3)} (feature loss ${r.featureLoss.toFixed(3)})`,
        )
        .join(', ')}`,
    );
    expect(gallery.files).toEqual([
      'conv1-filters.png',
      'feature-maps-1.png',
      'feature-maps-4.png',
      'attributions.png',
      'reconstructions.png',
      'training-curves.png',
      'confusion-matrix.png',
      'per-class-metrics.png',
      'model.svg',
      'model.png',
      'gallery.json',
    ]);
    for (const file of gallery.files.filter((f) => f.endsWith('.png'))) {
      const png = decode(readFileSync(join(out, file)));
      expect(png.width * png.height, file).toBeGreaterThan(100 * 100);
    }
    expect(gallery.correct).not.toBeNull();
    expect(gallery.wrong).not.toBeNull();
    const [first, ...rest] = gallery.reconstructions;
    const last = rest[rest.length - 1];
    expect(first.layer).toBe('1');
    expect(first.correlation).toBeGreaterThan(0.8);
    expect(first.correlation).toBeGreaterThan(last.correlation + 0.3);
    tf.dispose(images);
    optimizer.dispose?.();
    model.dispose();
    if (!process.env.CONVKIT_GALLERY_OUT) rmSync(out, { recursive: true, force: true });
  },
  240_000,
);
