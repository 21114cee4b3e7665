import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RandomSource } from '@convkit/backend';
import { encodeIdx, FASHION_MNIST_FILES } from '@convkit/data';

/**
 * A hermetic stand-in for Fashion-MNIST (the real run is the README's `npm run main`): IDX files
 * of 28x28 noise images where class c has a bright band at rows 2c+3..2c+6, under the real names.
 */
export async function writeFakeFashionMnist(dir: string, train = 400, test = 100): Promise<void> {
  const random = new RandomSource(3);
  const write = async (split: 'train' | 'test', n: number) => {
    const images = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const label = i % 10;
      labels[i] = label;
      for (let p = 0; p < 784; p++) {
        const row = Math.floor(p / 28);
        const band = row >= 2 * label + 3 && row < 2 * label + 7;
        images[i * 784 + p] = Math.min(255, Math.round(random.uniform(0, 90) + (band ? 150 : 0)));
      }
    }
    const files = FASHION_MNIST_FILES[split];
    await writeFile(join(dir, files.images.replace(/\.gz$/, '')), encodeIdx([n, 28, 28], images));
    await writeFile(join(dir, files.labels.replace(/\.gz$/, '')), encodeIdx([n], labels));
  };
  await write('train', train);
  await write('test', test);
}

/** The image of class `label` as the fake data set draws it, as 28x28 grey bytes. */
export function fakeImage(label: number, seed = 0): Uint8Array {
  const random = new RandomSource(seed);
  const image = new Uint8Array(784);
  for (let p = 0; p < 784; p++) {
    const row = Math.floor(p / 28);
    const band = row >= 2 * label + 3 && row < 2 * label + 7;
    image[p] = Math.min(255, Math.round(random.uniform(0, 90) + (band ? 150 : 0)));
  }
  return image;
}
