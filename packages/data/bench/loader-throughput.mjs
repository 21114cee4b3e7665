// Loader throughput on Fashion-MNIST train, batch 64, cpu backend (the consumer only disposes).
// Run from packages/data after `pnpm build`: node bench/loader-throughput.mjs [batches]
import * as data from '@convkit/data';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

await tf.setBackend('cpu');
const batches = Number(process.argv[2] ?? 300);
const t0 = performance.now();
const train = await data.loadFashionMnist({ split: 'train' });
console.log(`load + parse train: ${(performance.now() - t0).toFixed(0)} ms`);

const norm = data.normalize({ mean: 0.286, std: 0.353 });
const configs = {
  'no augmentation': {},
  'normalize only': { transform: norm },
  'crop(pad 4) + flip + normalize': {
    transform: data.compose([
      data.randomCrop({ size: 28, padding: 4 }),
      data.randomHorizontalFlip(),
      norm,
    ]),
  },
  'rotate(15) + crop + flip + erase + normalize': {
    transform: data.compose([
      data.randomRotation({ degrees: 15 }),
      data.randomCrop({ size: 28, padding: 4 }),
      data.randomHorizontalFlip(),
      norm,
      data.randomErasing(),
    ]),
  },
  'crop + flip + normalize, MixUp/CutMix': {
    transform: data.compose([
      data.randomCrop({ size: 28, padding: 4 }),
      data.randomHorizontalFlip(),
      norm,
    ]),
    batchTransform: data.randomChoice([data.mixup(), data.cutmix()]),
  },
};

for (const [name, options] of Object.entries(configs)) {
  const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true, seed: 0, ...options });
  let n = 0;
  const start = performance.now();
  for await (const { x, y } of loader) {
    tf.dispose([x, y]);
    if (++n >= batches) break;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${name.padEnd(46)} ${(n / seconds).toFixed(0).padStart(6)} batches/s  (${((n * 64) / seconds / 1000).toFixed(1)}k images/s)`,
  );
}
