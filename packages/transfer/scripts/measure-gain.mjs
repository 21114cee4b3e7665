// The measured gain of transfer learning on Fashion-MNIST (writes RESULTS.md beside this
// package's README). Source task: LeNet-5 trained with convkit on classes 0-4 (T-shirt,
// trouser, pullover, dress, coat). Target task: classes 5-9 (sandal, shirt, sneaker, bag, ankle
// boot) with 10, 50 and 500 training images per class, 3 seeds each; test accuracy on the 5,000
// target test images. Methods, each with the same number of optimizer steps:
//   scratch     a fresh LeNet-5
//   last-fc     the source encoder frozen, a new last FC layer (trained on cached features)
//   several-fc  the source encoder frozen, a new head with a hidden layer (128, dropout 0.5)
//   fine-tune   new last FC layer, then fineTune's phase 2 with both stages unfrozen
//
// Run (needs the built packages and Debian's dataset-fashion-mnist):
//   pnpm --filter @convkit/transfer... build && pnpm --filter @convkit/data build
//   node packages/transfer/scripts/measure-gain.mjs [--steps 150] [--source-epochs 2] [--sizes 10,50,500] [--seeds 3]
import { writeFileSync } from 'node:fs';
import { manualSeed, selectBackend } from '@convkit/backend';
import { loadFashionMnist } from '@convkit/data';
import { Adam } from '@convkit/optimizers';
import { evaluate, fit } from '@convkit/train';
import {
  cacheFeatures,
  createHead,
  fineTune,
  freeze,
  resetClassifier,
  trainHeadOnCache,
} from '@convkit/transfer';
import { lenet5 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
);
const STEPS = Number(args.steps ?? 150);
const SOURCE_EPOCHS = Number(args['source-epochs'] ?? 2);
const SIZES = (args.sizes ?? '10,50,500').split(',').map(Number);
const SEEDS = Number(args.seeds ?? 3);
const BATCH = 32;
const MEAN = 0.286;
const STD = 0.353;

function mulberry(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(list, random) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Batches (kept in memory, reused every epoch) of the given indices; labels minus `offset`. */
function batches(dataset, indices, offset) {
  const out = [];
  for (let i = 0; i < indices.length; i += BATCH) {
    const part = indices.slice(i, i + BATCH);
    const x = new Float32Array(part.length * 784);
    part.forEach((k, n) => {
      for (let p = 0; p < 784; p++)
        x[n * 784 + p] = (dataset.images[k * 784 + p] / 255 - MEAN) / STD;
    });
    out.push({
      x: tf.tensor4d(x, [part.length, 28, 28, 1]),
      y: tf.tensor1d(
        part.map((k) => dataset.labels[k] - offset),
        'int32',
      ),
    });
  }
  return out;
}

const free = (list) => {
  for (const b of list) tf.dispose([b.x, b.y]);
};

async function accuracy(model, test) {
  const { metrics } = await evaluate(model, test, { metrics: ['accuracy'] });
  return metrics.accuracy;
}

const epochsFor = (count) => Math.max(1, Math.round(STEPS / Math.ceil(count / BATCH)));

async function main() {
  const backend = await selectBackend();
  console.log(`backend: ${backend.name ?? JSON.stringify(backend)}`);
  const train = await loadFashionMnist({ split: 'train' });
  const test = await loadFashionMnist({ split: 'test' });
  const all = (d, keep) => [...d.labels.keys()].filter((k) => keep(d.labels[k]));

  // Source model: classes 0-4.
  manualSeed(1234);
  const t0 = performance.now();
  const source = lenet5({ numClasses: 5, inChannels: 1 });
  const sourceData = batches(
    train,
    shuffle(
      all(train, (c) => c < 5),
      mulberry(7),
    ),
    0,
  );
  const sourceOptimizer = new Adam(source.trainableVariables(), { lr: 2e-3 });
  await fit(source, { data: sourceData, optimizer: sourceOptimizer, epochs: SOURCE_EPOCHS });
  sourceOptimizer.dispose();
  free(sourceData);
  const sourceTest = batches(
    test,
    all(test, (c) => c < 5),
    0,
  );
  const sourceAccuracy = await accuracy(source, sourceTest);
  free(sourceTest);
  const sourceSeconds = (performance.now() - t0) / 1000;
  console.log(
    `source: ${(100 * sourceAccuracy).toFixed(2)}% on classes 0-4 in ${sourceSeconds.toFixed(1)} s`,
  );
  const sourceState = Object.fromEntries(
    Object.entries(source.stateDict()).map(([k, v]) => [k, v.clone()]),
  );

  const targetTest = batches(
    test,
    all(test, (c) => c >= 5),
    5,
  );
  const pretrained = () => {
    const model = lenet5({ numClasses: 5, inChannels: 1, initWeights: false });
    model.loadStateDict(sourceState);
    return model;
  };
  const methods = {
    scratch: async (data, count) => {
      const model = lenet5({ numClasses: 5, inChannels: 1 });
      const optimizer = new Adam(model.trainableVariables(), { lr: 2e-3 });
      await fit(model, { data, optimizer, epochs: epochsFor(count) });
      optimizer.dispose();
      return model;
    },
    'last-fc': async (data, count, seed) => {
      const model = pretrained();
      freeze(model);
      const cache = await cacheFeatures(model, data);
      const head = createHead(84, 5);
      await trainHeadOnCache(head, cache, {
        epochs: epochsFor(count),
        batchSize: BATCH,
        lr: 2e-3,
        seed,
      });
      tf.dispose([cache.features, cache.labels]);
      resetClassifier(model, 5, head);
      return model;
    },
    'several-fc': async (data, count, seed) => {
      const model = pretrained();
      freeze(model);
      const cache = await cacheFeatures(model, data);
      const head = createHead(84, 5, { hidden: [128], dropout: 0.5 });
      await trainHeadOnCache(head, cache, {
        epochs: epochsFor(count),
        batchSize: BATCH,
        lr: 2e-3,
        seed,
      });
      tf.dispose([cache.features, cache.labels]);
      resetClassifier(model, 5, head);
      return model;
    },
    'fine-tune': async (data, count) => {
      const model = pretrained();
      resetClassifier(model, 5);
      const epochs = epochsFor(count);
      await fineTune(model, {
        data,
        headEpochs: Math.max(1, Math.round(epochs / 2)),
        headLr: 2e-3,
        fineTuneEpochs: Math.max(1, epochs - Math.round(epochs / 2)),
        unfreezeStages: 2,
        lr: 1e-3,
        layerDecay: 0.5,
        warmupSteps: 10,
      });
      return model;
    },
  };

  const rows = [];
  for (const count of SIZES) {
    for (const [name, run] of Object.entries(methods)) {
      const accuracies = [];
      const seconds = [];
      for (let seed = 0; seed < SEEDS; seed++) {
        manualSeed(seed);
        const random = mulberry(100 + seed);
        const indices = [];
        for (let c = 5; c < 10; c++)
          indices.push(
            ...shuffle(
              all(train, (l) => l === c),
              random,
            ).slice(0, count),
          );
        const data = batches(train, shuffle(indices, random), 5);
        const t = performance.now();
        const model = await run(data, count * 5, seed);
        seconds.push((performance.now() - t) / 1000);
        accuracies.push(await accuracy(model, targetTest));
        model.dispose();
        free(data);
      }
      const mean = accuracies.reduce((s, a) => s + a, 0) / accuracies.length;
      const spread = Math.sqrt(
        accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / Math.max(1, accuracies.length - 1),
      );
      const time = seconds.reduce((s, a) => s + a, 0) / seconds.length;
      rows.push({ count, name, mean, spread, time });
      console.log(
        `${count}/class ${name}: ${(100 * mean).toFixed(2)}% ± ${(100 * spread).toFixed(2)} (${time.toFixed(1)} s)`,
      );
    }
  }
  free(targetTest);

  const table = rows
    .map(
      (r) =>
        `| ${r.count} | ${r.name} | ${(100 * r.mean).toFixed(2)} | ${(100 * r.spread).toFixed(2)} | ${r.time.toFixed(1)} |`,
    )
    .join('\n');
  const best = SIZES.map((count) => {
    const at = rows.filter((r) => r.count === count).sort((a, b) => b.mean - a.mean)[0];
    return `${count}/class: ${at.name}`;
  }).join('; ');
  writeFileSync(
    new URL('../RESULTS.md', import.meta.url),
    `# Transfer learning on Fashion-MNIST: measured gain

Written by \`scripts/measure-gain.mjs\` (${new Date().toISOString().slice(0, 10)}, backend ${tf.getBackend()},
${STEPS} optimizer steps per run, batch ${BATCH}, ${SEEDS} seeds). Source: LeNet-5 trained ${SOURCE_EPOCHS} epochs on
classes 0-4 (test accuracy ${(100 * sourceAccuracy).toFixed(2)}%, ${sourceSeconds.toFixed(1)} s). Target: classes 5-9 with the
given number of training images per class; test accuracy (%) on their 5,000 test images,
mean and standard deviation over the seeds; wall time per run (s).

| images / class | method | accuracy | spread | time (s) |
| ---: | --- | ---: | ---: | ---: |
${table}

Best per size: ${best}.
`,
  );
}

await main();
