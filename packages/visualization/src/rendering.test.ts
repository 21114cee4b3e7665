import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFixtureModel } from './__fixtures__/models';
import {
  confusionMatrixSpec,
  historySeries,
  perClassMetrics,
  renderChartSvg,
  trainingCurvesSpec,
} from './charts';
import { colormapTable } from './colormap';
import {
  encodePng,
  labeledGridSvg,
  overlayHeatmap,
  tensorToImage,
  tileImages,
  toImageData,
  upscale,
  valuesToImage,
} from './image';
import { modelDiagramSvg } from './model-diagram';
import { svgToPng } from './render-node';

beforeAll(() => useBackend('cpu'));

const hex = (t: Uint8Array, i: number) =>
  `#${[...t.subarray(3 * i, 3 * i + 3)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Fraction of pixels darker than 100 in every channel in a rectangle of a decoded PNG. */
function darkFraction(
  png: ReturnType<typeof decode>,
  x0: number,
  y0: number,
  w: number,
  h: number,
) {
  let dark = 0;
  const c = png.channels;
  for (let y = y0; y < y0 + h; y++)
    for (let x = x0; x < x0 + w; x++) {
      const i = (y * png.width + x) * c;
      if (png.data[i] < 100 && png.data[i + 1] < 100 && png.data[i + 2] < 100) dark++;
    }
  return dark / (w * h);
}

describe('images', () => {
  it('colormaps are matplotlib viridis and inferno (published end points)', () => {
    const v = colormapTable('viridis');
    const f = colormapTable('inferno');
    expect([hex(v, 0), hex(v, 255)]).toEqual(['#440154', '#fde725']);
    expect([hex(f, 0), hex(f, 255)]).toEqual(['#000004', '#fcffa4']);
    expect(hex(colormapTable('gray'), 128)).toBe('#808080');
    expect(() => colormapTable('jet' as 'gray')).toThrow(
      `colormap: expected 'viridis', 'inferno' or 'gray'; received "jet"`,
    );
  });

  it('tensors become RGBA images and PNG bytes that decode to the same pixels', async () => {
    const t = tf.tensor3d([0, 1, 2, 3, 4, 5], [2, 3, 1]);
    const image = await tensorToImage(t);
    expect([image.width, image.height]).toEqual([3, 2]);
    expect([...image.data.filter((_, i) => i % 4 === 0)]).toEqual([0, 51, 102, 153, 204, 255]);
    const png = decode(encodePng(image));
    expect([png.width, png.height, png.channels]).toEqual([3, 2, 4]);
    expect([...png.data]).toEqual([...image.data]);
    const rgb = await tensorToImage(tf.tensor4d([-1, 0, 1], [1, 1, 1, 3]), { range: 'symmetric' });
    expect([...rgb.data]).toEqual([0, 128, 255, 255]);
    await expect(tensorToImage(tf.zeros([2, 2, 2]))).rejects.toThrow(
      'tensorToImage: expected a tensor [H, W], [H, W, 1] or [H, W, 3] (optionally with a batch of 1); received [2, 2, 2]',
    );
    t.dispose();
  });

  it('upscale, tiles and heatmap overlays', () => {
    const a = valuesToImage([0, 1, 2, 3], 2, 2, 1);
    const big = upscale(a, 3);
    expect([big.width, big.height]).toEqual([6, 6]);
    expect(big.data[(5 * 6 + 5) * 4]).toBe(255);
    expect(big.data[(2 * 6 + 2) * 4]).toBe(0);
    const grid = tileImages([a, a, a], { columns: 2, padding: 1 });
    expect([grid.width, grid.height]).toEqual([7, 7]);
    expect([...grid.data.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
    expect(grid.data[(1 * 7 + 1) * 4]).toBe(0); // first tile's top-left pixel
    const overlay = overlayHeatmap(valuesToImage([0, 0, 0, 0], 2, 2, 1), [0, 0, 0, 2], {
      alpha: 1,
    });
    const inferno = colormapTable('inferno');
    expect([...overlay.data.subarray(12, 15)]).toEqual([...inferno.subarray(255 * 3, 256 * 3)]);
    expect(() => overlayHeatmap(a, [1, 2])).toThrow(
      "overlayHeatmap: expected 2x2 heat values (the image's size); received 2",
    );
    expect(() => toImageData(a)).toThrow(/ImageData is not defined here/);
  });

  it('a labelled grid renders through SVG and resvg with its text', async () => {
    const tile = valuesToImage(new Float32Array(64).fill(1), 8, 8, 1, { range: [0, 1] }); // white
    const svg = labeledGridSvg(
      [
        { image: tile, label: 'T-shirt' },
        { image: tile, label: 'Sneaker' },
      ],
      { columns: 2, scale: 4, fontSize: 14 },
    );
    expect(svg).toContain('>T-shirt</text>');
    const png = decode(await svgToPng(svg));
    // Cells are 32 px wide with 6 px gaps; labels sit under the tiles, dark text on white.
    expect([png.width, png.height]).toEqual([2 * 38 + 6, 6 + 32 + 21 + 6]);
    expect(darkFraction(png, 6, 38, 32, 20)).toBeGreaterThan(0.03);
    expect(darkFraction(png, 6, 6, 32, 32)).toBe(0);
  });
});

describe('charts and diagrams', () => {
  const epochs = [
    {
      epoch: 0,
      loss: 1.2,
      metrics: { accuracy: 0.6 },
      valLoss: 1.0,
      valMetrics: { accuracy: 0.65 },
      lr: 0.01,
    },
    {
      epoch: 1,
      loss: 0.8,
      metrics: { accuracy: 0.75 },
      valLoss: 0.9,
      valMetrics: { accuracy: 0.7 },
      lr: 0.005,
    },
  ];
  const csv =
    'epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,1.2,0.6,1,0.65,0.01,3\n2,0.8,0.75,0.9,0.7,0.005,3\n';

  it('histories from fit, History, series or CSV give the same series', () => {
    const expected = {
      loss: [1.2, 0.8],
      accuracy: [0.6, 0.75],
      val_loss: [1.0, 0.9],
      val_accuracy: [0.65, 0.7],
      lr: [0.01, 0.005],
    };
    expect(historySeries(epochs)).toEqual(expected);
    expect(historySeries(csv)).toEqual(expected);
    expect(historySeries({ series: () => expected })).toEqual(expected);
    expect(historySeries(expected)).toEqual(expected);
    expect(() => historySeries('epoch,loss\n1,abc')).toThrow(
      "historySeries: CSV line 2, column 'loss': expected a number; received 'abc'",
    );
  });

  it('training curves and the confusion matrix render to SVG and PNG', async () => {
    const curves = await renderChartSvg(trainingCurvesSpec(epochs));
    expect(curves).toMatch(/^<svg/);
    expect(curves).toContain('val_accuracy');
    const matrix = [
      [8, 2],
      [1, 9],
    ];
    const cm = await renderChartSvg(confusionMatrixSpec(matrix, ['cat', 'dog']));
    expect(cm).toContain('predicted class');
    const png = decode(await svgToPng(cm));
    expect(png.width).toBeGreaterThan(56);
    expect(() => confusionMatrixSpec([[1, 2]], ['a'])).toThrow(
      "confusionMatrixSpec: argument 'matrix' must be square [classes][classes]; received rows of lengths 2",
    );
    expect(() => confusionMatrixSpec(matrix, ['a'])).toThrow(
      "confusionMatrixSpec: argument 'classNames' must have 2 names (one per row); received 1",
    );
    const [cat] = perClassMetrics(matrix, ['cat', 'dog']);
    expect(cat).toEqual({
      name: 'cat',
      precision: 8 / 9,
      recall: 0.8,
      f1: (2 * (8 / 9) * 0.8) / (8 / 9 + 0.8),
      support: 10,
    });
  });

  it('the model diagram lists every layer with its output shape and parameters', () => {
    const model = loadFixtureModel('convNet');
    const before = tf.memory().numTensors;
    const svg = modelDiagramSvg(model, [1, 8, 8, 3]);
    expect(tf.memory().numTensors).toBe(before);
    expect(svg).toContain('0  Conv2d');
    expect(svg).toContain('[1, 8, 8, 4]');
    expect(svg).toContain('112 params'); // 3*3*3*4 + 4
    expect(svg).toContain('7  Linear');
    expect(svg).toContain('[1, 5]');
    expect(svg).toContain('369 parameters'); // 112 + 222 + 35
    model.dispose();
  });
});
