import { measureLeaks } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fixture, loadFixtureModel, tensorOf } from './__fixtures__/models';
import { colormapTable } from './colormap';
import {
  activationStats,
  featureMapGrid,
  featureMapImages,
  featureMaps,
  filterGrid,
  filterImages,
} from './features';

describe.each(['cpu', 'wasm'] as const)('feature maps, filters and statistics (%s)', (backend) => {
  it('feature maps are the layer output, one min..max-scaled tile per channel', async () => {
    await useBackend(backend);
    const model = loadFixtureModel('convNet');
    const x = tensorOf(fixture.convNet.input);
    const { result, leakedTensors } = await measureLeaks(async () => {
      const maps = featureMaps(model, x, '1');
      const images = await featureMapImages(model, x, { layer: '1', sample: 1 });
      const grid = await featureMapGrid(model, x, { layer: '4', scale: 2, columns: 3 });
      return { maps, images, grid };
    });
    expect(leakedTensors).toBe(0);
    const { maps, images, grid } = result;
    const expected = tf.tidy(() => tf.relu(model.getSubmodule('0').forward(x)));
    assertAllClose(await maps.data(), await expected.data(), { rtol: 1e-6 });
    expect(images.map((i) => [i.width, i.height])).toEqual([
      [8, 8],
      [8, 8],
      [8, 8],
      [8, 8],
    ]);
    // Channel 2 of sample 1: its largest value is viridis' last colour, its smallest the first.
    const plane = (await tf
      .tidy(() => tf.slice(expected, [1, 0, 0, 2], [1, 8, 8, 1]))
      .data()) as Float32Array;
    const argmax = plane.indexOf(Math.max(...plane));
    const argmin = plane.indexOf(Math.min(...plane));
    const v = colormapTable('viridis');
    expect([...images[2].data.subarray(4 * argmax, 4 * argmax + 3)]).toEqual([
      ...v.subarray(765, 768),
    ]);
    expect([...images[2].data.subarray(4 * argmin, 4 * argmin + 3)]).toEqual([...v.subarray(0, 3)]);
    // '4' is [N, 4, 4, 6]: 6 tiles of 8 px in 3 columns, 2 rows, 2 px padding.
    expect([grid.width, grid.height]).toEqual([3 * 8 + 4 * 2, 2 * 8 + 3 * 2]);
    tf.dispose([x, maps, expected]);
    model.dispose();
  });

  it('filters: RGB per filter for 3 input channels, grey per input channel deeper', async () => {
    await useBackend(backend);
    const model = loadFixtureModel('convNet');
    const before = tf.memory().numTensors;
    const first = await filterImages(model, { layer: '0', scale: 2 });
    const deeper = await filterImages(model, { layer: '3', scale: 1, maxOutputs: 2 });
    const grid = await filterGrid(model, { layer: '0' });
    expect(tf.memory().numTensors).toBe(before);
    expect(first.rgb).toBe(true);
    expect(first.images.length).toBe(4);
    expect([first.images[0].width, first.images[0].height]).toEqual([6, 6]);
    expect(deeper.rgb).toBe(false);
    expect(deeper.labels).toEqual(['0.0', '0.1', '0.2', '0.3', '1.0', '1.1', '1.2', '1.3']);
    expect([grid.width, grid.height]).toEqual([4 * 24 + 5 * 2, 24 + 2 * 2]);
    // Weight HWIO [3, 3, 3, 4]: pixel (0, 0) of filter 1, red channel = w[0][0][0][1], on the
    // layer's symmetric scale.
    const w = fixture.convNet.state['0.weight'].values; // convkit layout, row-major HWIO
    const m = Math.max(...w.map(Math.abs));
    expect(first.images[1].data[0]).toBe(Math.round(((Math.fround(w[1]) + m) * 255) / (2 * m)));
    await expect(filterGrid(model, { layer: '1' })).rejects.toThrow(
      "filterImages: option 'layer' must name a convolution (a rank-4 HWIO weight); '1' is a ReLU without a weight",
    );
    await expect(filterGrid(model, { layer: '7' })).rejects.toThrow(
      /'7' is a Linear with weight \[6, 5\]/,
    );
    model.dispose();
  });

  it('per-channel statistics equal a direct computation', async () => {
    await useBackend(backend);
    const model = loadFixtureModel('resnetBlock');
    const x = tensorOf(fixture.resnetBlock.input);
    const before = tf.memory().numTensors;
    const stats = await activationStats(model, x, '3');
    expect(tf.memory().numTensors).toBe(before);
    const a = featureMaps(model, x, '3');
    const values = (await a.data()) as Float32Array;
    const c = a.shape[3] as number;
    const ch = Array.from({ length: values.length / c }, (_, i) => values[i * c + 5]);
    const mean = ch.reduce((s, v) => s + v, 0) / ch.length;
    const std = Math.sqrt(ch.reduce((s, v) => s + (v - mean) ** 2, 0) / ch.length);
    expect(stats).toHaveLength(8);
    expect(stats[5].mean).toBeCloseTo(mean, 5);
    expect(stats[5].std).toBeCloseTo(std, 5);
    expect(stats[5].max).toBeCloseTo(Math.max(...ch), 6);
    expect(stats[5].min).toBe(Math.min(...ch));
    expect(stats[5].positive).toBeCloseTo(ch.filter((v) => v > 0).length / ch.length, 6);
    await expect(featureMapGrid(model, x, { layer: '6' })).rejects.toThrow(
      "featureMapImages: option 'layer' must name a module with a spatial output [N, H, W, C]; '6' outputs [2, 5]",
    );
    await expect(featureMapGrid(model, x, { layer: '3', sample: 2 })).rejects.toThrow(
      "featureMapImages: option 'sample' must be an index in [0, 1]; received 2",
    );
    tf.dispose([x, a]);
    model.dispose();
  });
});
