// Shared body of check-esm.mjs / check-cjs.cjs: exercises the BUILT package from plain node,
// including the lazily imported Node modules (node:fs, node:zlib, pngjs, jpeg-js).
const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { gzipSync } = require('node:zlib');

async function run(tf, data) {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'convkit-data-built-'));
  try {
    // IDX (gzipped) through loadIdxDataset.
    writeFileSync(join(dir, 'i.gz'), gzipSync(data.encodeIdx([3, 2, 2], new Uint8Array(12).fill(51))));
    writeFileSync(join(dir, 'l'), data.encodeIdx([3], Uint8Array.from([0, 1, 2])));
    const idx = await data.loadIdxDataset({ images: join(dir, 'i.gz'), labels: join(dir, 'l') });
    // A one-pixel PNG in an image folder (pngjs is loaded on first use).
    const { PNG } = require('pngjs');
    const png = new PNG({ width: 1, height: 1 });
    png.data = Buffer.from([10, 20, 30, 255]);
    mkdirSync(join(dir, 'folder', 'a'), { recursive: true });
    writeFileSync(join(dir, 'folder', 'a', 'x.png'), PNG.sync.write(png));
    const folder = await data.imageFolderDataset(join(dir, 'folder'));
    const pixel = Array.from((await folder.get(0)).image.data);

    const shapes = data.syntheticShapesDataset({ length: 20, size: 8, seed: 1 });
    const loader = new data.DataLoader(shapes, {
      batchSize: 8,
      shuffle: true,
      seed: 1,
      transform: data.compose([data.randomHorizontalFlip(), data.normalize({ mean: 0.5, std: 0.5 })]),
    });
    const before = tf.memory().numTensors;
    const shapesSeen = [];
    let checksum = 0;
    for await (const { x, y } of loader) {
      shapesSeen.push(x.shape);
      const sx = tf.sum(x);
      const sy = tf.sum(y);
      checksum += (await sx.data())[0] + (await sy.data())[0];
      tf.dispose([x, y, sx, sy]);

    }
    const leaked = tf.memory().numTensors - before;
    return { idxLength: idx.length, idxFirst: idx.get(0).image.data[0], pixel, shapesSeen, checksum, leaked };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };
