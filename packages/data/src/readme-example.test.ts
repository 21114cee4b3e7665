// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) on the real Fashion-MNIST
// files (Debian's dataset-fashion-mnist, which bin/bootstrap.sh installs), and checks what its
// comments claim. The only addition: the loop's batches are recorded by a wrapper around the
// loader's iterator, so their shapes can be checked after the example disposed them.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it } from 'vitest';
import { DataLoader as LoaderClass } from './data-loader';

const seen: { x: number[]; xDtype: string; y: number[]; yDtype: string }[] = [];
const iterate = LoaderClass.prototype[Symbol.asyncIterator];
LoaderClass.prototype[Symbol.asyncIterator] = async function* (this: LoaderClass) {
  const inner = iterate.call(this);
  for (let step = await inner.next(); !step.done; step = await inner.next()) {
    const { x, y } = step.value;
    seen.push({ x: x.shape, xDtype: x.dtype, y: y.shape, yDtype: y.dtype });
    yield step.value;
  }
};

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import {
  compose,
  DataLoader,
  loadFashionMnist,
  normalize,
  randomCrop,
  randomHorizontalFlip,
} from '@convkit/data';

await selectBackend();
// Looks in CONVKIT_DATA, ~/.cache/convkit/fashion-mnist and /usr/share/datasets/fashion-mnist;
// `download: true` fetches the official files (SHA-256 checked) into the cache.
const train = await loadFashionMnist({ split: 'train' }); // 60000 x [28, 28, 1]
const loader = new DataLoader(train, {
  batchSize: 64,
  shuffle: true,
  seed: 0,
  transform: compose([
    randomCrop({ size: 28, padding: 2 }),
    randomHorizontalFlip(),
    normalize({ mean: 0.286, std: 0.353 }),
  ]),
});
for (let epoch = 0; epoch < 2; epoch++) {
  for await (const { x, y } of loader) {
    // x: [64, 28, 28, 1] float32, y: [64] int32
    // ... a training step ...
    tf.dispose([x, y]); // the consumer owns every batch
  }
}
const checkpoint = loader.state(); // { seed, epoch, position }: loader.loadState(checkpoint) resumes
// README example end

LoaderClass.prototype[Symbol.asyncIterator] = iterate;

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('loads 60000 28x28 grey images and gives two epochs of [64, 28, 28, 1] / [64] batches', () => {
  expect(DataLoader).toBe(LoaderClass); // the package entry is this source
  expect(train.length).toBe(60000);
  expect([train.height, train.width, train.channels]).toEqual([28, 28, 1]);
  const perEpoch = Math.ceil(60000 / 64); // 938, the last one of 32
  expect(seen).toHaveLength(2 * perEpoch);
  expect(seen[0]).toEqual({ x: [64, 28, 28, 1], xDtype: 'float32', y: [64], yDtype: 'int32' });
  expect(seen[perEpoch - 1].x).toEqual([60000 - 64 * (perEpoch - 1), 28, 28, 1]);
  expect(tf.memory().numTensors).toBe(0); // every batch was disposed by the loop
});

it('records the position to resume from', () => {
  expect(checkpoint).toEqual({ seed: 0, epoch: 2, position: 0 });
});
