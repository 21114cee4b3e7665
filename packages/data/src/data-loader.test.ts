import { assertNoLeaks, manualSeed, RandomSource } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compose,
  DataLoader,
  type Dataset,
  InMemoryDataset,
  type LabeledImage,
  mixup,
  randomCrop,
  randomHorizontalFlip,
} from './index';

beforeAll(async () => {
  await useBackend('cpu');
});

/** n images of 2x2x1 whose pixels all equal the sample index (so batches reveal the order). */
function indexDataset(n: number, classes = 3): InMemoryDataset {
  const images = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i, i * 4, i * 4 + 4);
  return new InMemoryDataset({
    images,
    shape: [n, 2, 2, 1],
    labels: Array.from({ length: n }, (_, i) => i % classes),
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
  });
}

/** Consume a loader's current epoch, returning each batch's sample ids and labels. */
async function drain(loader: DataLoader, limit = Number.POSITIVE_INFINITY) {
  const out: { ids: number[]; labels: number[]; x: number[] }[] = [];
  for await (const { x, y } of loader) {
    const xv = Array.from(await x.data());
    out.push({
      ids: xv.filter((_, k) => k % 4 === 0).map((v) => Math.round(v * 255)),
      labels: Array.from(await y.data()),
      x: xv,
    });
    tf.dispose([x, y]);
    if (out.length >= limit) break;
  }
  return out;
}

describe('DataLoader', () => {
  it('builds [N, H, W, C] float32 / [N] int32 batches in order, with dropLast', async () => {
    const ds = indexDataset(10);
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    let shapes: number[][] = [];
    for await (const { x, y, index, epoch } of loader) {
      expect(x.dtype).toBe('float32');
      expect(y.dtype).toBe('int32');
      expect(epoch).toBe(0);
      shapes.push([index, ...x.shape, ...y.shape]);
      tf.dispose([x, y]);
    }
    expect(shapes).toEqual([
      [0, 4, 2, 2, 1, 4],
      [1, 4, 2, 2, 1, 4],
      [2, 2, 2, 2, 1, 2],
    ]);
    expect(loader.epoch).toBe(1);
    const batches = await drain(new DataLoader(ds, { batchSize: 4 }));
    expect(batches.map((b) => b.ids)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(batches[0].labels).toEqual([0, 1, 2, 0]);
    expect(batches[1].x[0]).toBeCloseTo(4 / 255, 7);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    shapes = (await drain(dropped)).map((b) => [b.ids.length]);
    expect(shapes).toEqual([[4], [4]]);
  });

  it('same seed gives the same batches; each epoch a different order; manualSeed reproduces', async () => {
    const ds = indexDataset(50);
    const a = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 42 });
    const b = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 42 });
    const a0 = await drain(a);
    const b0 = await drain(b);
    expect(a0.map((x) => x.ids)).toEqual(b0.map((x) => x.ids));
    const a1 = await drain(a);
    expect(a1.map((x) => x.ids)).not.toEqual(a0.map((x) => x.ids));
    expect(a1.flatMap((x) => x.ids).sort((p, q) => p - q)).toEqual([...Array(50).keys()]);
    expect(a0.map((x) => x.ids)).not.toEqual(
      (await drain(new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 43 }))).map(
        (x) => x.ids,
      ),
    );

    manualSeed(7);
    const c = await drain(new DataLoader(ds, { batchSize: 8, shuffle: true }));
    manualSeed(7);
    const d = await drain(new DataLoader(ds, { batchSize: 8, shuffle: true }));
    expect(c.map((x) => x.ids)).toEqual(d.map((x) => x.ids));
    const e = await drain(
      new DataLoader(ds, { batchSize: 8, shuffle: true, random: new RandomSource(1) }),
    );
    const f = await drain(
      new DataLoader(ds, { batchSize: 8, shuffle: true, random: new RandomSource(1) }),
    );
    expect(e.map((x) => x.ids)).toEqual(f.map((x) => x.ids));
  });

  it('resumes exactly from a saved state (mid-epoch and across epochs), augmentation included', async () => {
    const ds = indexDataset(40);
    const transform = compose([randomCrop({ size: 2, padding: 1 }), randomHorizontalFlip()]);
    const make = () => new DataLoader(ds, { batchSize: 6, shuffle: true, seed: 5, transform });
    const reference = make();
    const full = [...(await drain(reference)), ...(await drain(reference))];
    expect(full.length).toBe(14);

    const first = make();
    const head = await drain(first, 3); // break after 3 batches
    const saved = JSON.parse(JSON.stringify(first.stateDict()));
    expect(saved).toEqual({ seed: 5, epoch: 0, position: 3 });
    const resumed = make();
    resumed.loadStateDict(saved);
    const tail = [...(await drain(resumed)), ...(await drain(resumed))];
    expect([...head, ...tail].map((b) => b.x)).toEqual(full.map((b) => b.x));

    // The same loader continues where the broken loop stopped.
    const again = make();
    await drain(again, 2);
    const rest = await drain(again);
    expect(rest.map((b) => b.x)).toEqual(full.slice(2, 7).map((b) => b.x));

    const later = make();
    later.loadStateDict({ seed: 5, epoch: 1, position: 4 });
    expect((await drain(later)).map((b) => b.x)).toEqual(full.slice(11).map((b) => b.x));
    expect(() => later.loadStateDict({ seed: 5, epoch: 0, position: 99 })).toThrow(
      'DataLoader.loadStateDict: position: expected an integer with 0 <= position <= 7, received 99',
    );
    expect(() => later.loadStateDict({ seed: 5, epoch: -1, pos: 0 } as never)).toThrow(
      'DataLoader.loadStateDict: 2 problem(s):\n  missing key position\n  unexpected key pos',
    );
    // The former names remain, as aliases.
    later.loadState(later.state());
    later.setEpoch(0);
    expect((await drain(later))[0].x).toEqual(full[0].x);
  });

  it('prefetches a bounded number of batches while the consumer works, with identical results', async () => {
    const started: number[] = [];
    const base = indexDataset(64);
    const slow: Dataset<LabeledImage> = {
      length: base.length,
      classNames: base.classNames,
      async get(i) {
        started.push(i);
        await new Promise((r) => setTimeout(r, 1));
        return base.get(i);
      },
    };
    const transform = randomHorizontalFlip();
    const loader = new DataLoader(slow, {
      batchSize: 8,
      prefetch: 2,
      seed: 3,
      shuffle: true,
      transform,
    });
    const order = loader.order(0);
    const batchOf = (sample: number) => Math.floor(order.indexOf(sample) / 8);
    let consumed = 0;
    const seen: number[][] = [];
    for await (const { x, y, index } of loader) {
      expect(index).toBe(consumed);
      // While the consumer "works", the loader prepares the next batches ...
      await new Promise((r) => setTimeout(r, 50));
      const furthest = Math.max(...started.map(batchOf));
      expect(furthest).toBe(Math.min(index + 2, 7));
      // ... but never more than `prefetch` ahead.
      expect(furthest).toBeLessThanOrEqual(index + 2);
      seen.push(Array.from(await x.data()));
      tf.dispose([x, y]);
      consumed++;
    }
    expect(consumed).toBe(8);
    const eager = new DataLoader(base, {
      batchSize: 8,
      prefetch: 0,
      seed: 3,
      shuffle: true,
      transform,
    });
    expect((await drain(eager)).map((b) => b.x)).toEqual(seen);
  });

  it('leaks no tensors when the consumer disposes each batch, even when it stops early', async () => {
    const ds = indexDataset(30);
    await assertNoLeaks('full epoch', async () => {
      const loader = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 1, prefetch: 3 });
      for await (const { x, y } of loader) {
        tf.tidy(() => {
          x.mean().add(y.sum());
        });
        tf.dispose([x, y]);
      }
    });
    await assertNoLeaks('early stop', async () => {
      const loader = new DataLoader(ds, { batchSize: 2, prefetch: 4 });
      for await (const { x, y } of loader) {
        tf.dispose([x, y]);
        break;
      }
      await new Promise((r) => setTimeout(r, 10)); // let prefetched batches settle
    });
  });

  it('one-hot and MixUp labels are [N, K] float32 summing to 1', async () => {
    const ds = indexDataset(12, 4);
    const oneHot = new DataLoader(ds, { batchSize: 6, oneHot: true });
    for await (const { x, y } of oneHot) {
      expect(y.shape).toEqual([6, 4]);
      expect(y.dtype).toBe('float32');
      expect(Array.from(await y.argMax(-1).data())).toEqual(
        [0, 1, 2, 3, 0, 1].map((v, i) => (v + (x.shape[0] === 6 ? 0 : i)) % 4),
      );
      tf.dispose([x, y]);
      break;
    }
    const mixed = new DataLoader(ds, {
      batchSize: 6,
      batchTransform: mixup({ alpha: 0.4 }),
      seed: 2,
    });
    for await (const { x, y } of mixed) {
      expect(y.shape).toEqual([6, 4]);
      const sums = await y.sum(-1).data();
      for (const s of sums) expect(s).toBeCloseTo(1, 6);
      tf.dispose([x, y]);
    }
  });

  it('reports mismatched sample shapes, bad labels and concurrent iteration clearly', async () => {
    const ragged: Dataset<LabeledImage> = {
      length: 2,
      get: (i) => ({
        image: {
          data: new Uint8Array(i === 0 ? 4 : 9),
          height: i === 0 ? 2 : 3,
          width: i === 0 ? 2 : 3,
          channels: 1,
        },
        label: 0,
      }),
    };
    await expect(drain(new DataLoader(ragged, { batchSize: 2 }))).rejects.toThrow(
      /sample 1 is 3x3x1 but sample 0 of the same batch is 2x2x1; add a resize/,
    );
    const badLabel = indexDataset(4, 2);
    await expect(drain(new DataLoader(badLabel, { batchSize: 2, numClasses: 1 }))).rejects.toThrow(
      /label 1, expected an integer in \[0, 1\)/,
    );
    const loader = new DataLoader(indexDataset(8), { batchSize: 2 });
    const it1 = loader[Symbol.asyncIterator]();
    const first = await it1.next();
    tf.dispose([first.value.x, first.value.y]);
    await expect(loader[Symbol.asyncIterator]().next()).rejects.toThrow(/already running/);
    await it1.return?.();
    expect(() => new DataLoader(badLabel, { batchSize: 0 })).toThrow(
      /positive integer, received 0/,
    );
  });
});
