import { forwardWithActivations, type Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { ColormapName } from './colormap';
import { type RgbaImage, tileImages, upscale, valuesToImage } from './image';
import { checkImageInput, positiveInteger, shapeText } from './internal/checks';

/**
 * The output of the module at state-dict path `layer` for `input` (one forward pass; nothing
 * else is kept). Shape: that module's output, `[N, h, w, C]` for conv layers.
 */
export function featureMaps(model: Module, input: tf.Tensor, layer: string): tf.Tensor {
  checkImageInput('featureMaps', model, input);
  return tf.tidy(() => {
    const { activations } = forwardWithActivations(model, input, [layer]);
    const a = activations[layer];
    if (!a) throw new Error(`featureMaps: module '${layer}' did not run during model.forward`);
    return a;
  });
}

export interface FeatureMapGridOptions {
  /** State-dict path of the module (`features.3`). */
  layer: string;
  /** Which image of the batch. Default 0. */
  sample?: number;
  /** Default 'viridis'. */
  colormap?: ColormapName;
  /** Nearest-neighbour scale of each map. Default 1. */
  scale?: number;
  /** Tiles per row. Default ceil(sqrt(channels)). */
  columns?: number;
  /** Show at most this many channels (the first ones). Default all. */
  maxChannels?: number;
}

/** One image per channel of the layer's output for one sample, each scaled to its own min..max. */
export async function featureMapImages(
  model: Module,
  input: tf.Tensor,
  options: FeatureMapGridOptions,
): Promise<RgbaImage[]> {
  const fn = 'featureMapImages';
  const sample = options.sample ?? 0;
  if (!Number.isInteger(sample) || sample < 0 || sample >= (input.shape[0] ?? 0)) {
    throw new Error(
      `${fn}: option 'sample' must be an index in [0, ${(input.shape[0] ?? 0) - 1}]; received ${sample}`,
    );
  }
  const maps = featureMaps(model, input, options.layer);
  try {
    if (maps.rank !== 4) {
      throw new Error(
        `${fn}: option 'layer' must name a module with a spatial output [N, H, W, C]; '${options.layer}' outputs ${shapeText(maps.shape)}`,
      );
    }
    const [, h, w, c] = maps.shape;
    const count = Math.min(c, options.maxChannels ?? c);
    const values = await maps.data();
    const scale = positiveInteger(fn, 'scale', options.scale ?? 1);
    const images: RgbaImage[] = [];
    const plane = new Float32Array(h * w);
    for (let k = 0; k < count; k++) {
      for (let p = 0; p < h * w; p++) plane[p] = values[(sample * h * w + p) * c + k];
      images.push(
        upscale(valuesToImage(plane, h, w, 1, { colormap: options.colormap ?? 'viridis' }), scale),
      );
    }
    return images;
  } finally {
    maps.dispose();
  }
}

/** The layer's feature maps for one sample as a grid, one tile per channel. */
export async function featureMapGrid(
  model: Module,
  input: tf.Tensor,
  options: FeatureMapGridOptions,
): Promise<RgbaImage> {
  const images = await featureMapImages(model, input, options);
  return tileImages(images, { columns: options.columns, padding: 2 });
}

export interface FilterGridOptions {
  /** State-dict path of a convolution (`features.0`, `conv1`). */
  layer: string;
  /** Nearest-neighbour scale of each filter. Default 8. */
  scale?: number;
  /** Show at most this many output channels. Default all. */
  maxOutputs?: number;
  /** Deeper layers: show at most this many input channels per filter. Default all. */
  maxInputs?: number;
}

/**
 * The filters of a convolution as images, on one colour scale for the whole layer (0 is mid
 * grey, -max|w| black, +max|w| white): with 3 input channels one RGB image per filter;
 * otherwise one grey image per (output, input) channel pair, row by row (`columns` is the
 * number of input channels shown).
 */
export async function filterImages(
  model: Module,
  options: FilterGridOptions,
): Promise<{ images: RgbaImage[]; labels: string[]; columns: number; rgb: boolean }> {
  const fn = 'filterImages';
  const module = model.getSubmodule(options.layer);
  const weight = module.stateDict().weight;
  if (weight?.rank !== 4) {
    throw new Error(
      `${fn}: option 'layer' must name a convolution (a rank-4 HWIO weight); '${options.layer}' is a ${module.constructor.name}${weight ? ` with weight ${shapeText(weight.shape)}` : ' without a weight'}`,
    );
  }
  const [kh, kw, inputs, outputs] = weight.shape;
  const scale = positiveInteger(fn, 'scale', options.scale ?? 8);
  const values = await weight.data();
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  const range: [number, number] = [-(m || 1), m || 1];
  const shownOut = Math.min(outputs, options.maxOutputs ?? outputs);
  const rgb = inputs === 3;
  const shownIn = rgb ? 3 : Math.min(inputs, options.maxInputs ?? inputs);
  const at = (y: number, x: number, i: number, o: number) =>
    values[((y * kw + x) * inputs + i) * outputs + o];
  const images: RgbaImage[] = [];
  const labels: string[] = [];
  for (let o = 0; o < shownOut; o++) {
    if (rgb) {
      const pixels = new Float32Array(kh * kw * 3);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < 3; i++) pixels[(y * kw + x) * 3 + i] = at(y, x, i, o);
      images.push(upscale(valuesToImage(pixels, kh, kw, 3, { range }), scale));
      labels.push(String(o));
      continue;
    }
    for (let i = 0; i < shownIn; i++) {
      const pixels = new Float32Array(kh * kw);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) pixels[y * kw + x] = at(y, x, i, o);
      images.push(upscale(valuesToImage(pixels, kh, kw, 1, { range }), scale));
      labels.push(`${o}.${i}`);
    }
  }
  return { images, labels, columns: rgb || shownIn === 1 ? Math.min(shownOut, 8) : shownIn, rgb };
}

/** The filters of a convolution as one grid image (see `filterImages`). */
export async function filterGrid(model: Module, options: FilterGridOptions): Promise<RgbaImage> {
  const { images, columns } = await filterImages(model, options);
  return tileImages(images, { columns, padding: 2, background: [255, 255, 255, 255] });
}

/** Statistics of one channel of a layer's output over the batch and the spatial positions. */
export interface ChannelStats {
  channel: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of values > 0 (how often the unit fires after a ReLU). */
  positive: number;
}

/** Per-channel statistics of the output of `layer` for `input` (last axis = channels). */
export async function activationStats(
  model: Module,
  input: tf.Tensor,
  layer: string,
): Promise<ChannelStats[]> {
  const maps = featureMaps(model, input, layer);
  const stats = tf.tidy(() => {
    const axes = maps.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(maps, axes);
    return tf.stack([
      mean,
      tf.sqrt(variance),
      tf.min(maps, axes),
      tf.max(maps, axes),
      tf.mean(tf.cast(tf.greater(maps, 0), 'float32'), axes),
    ]);
  });
  maps.dispose();
  const rows = (await stats.array()) as number[][];
  stats.dispose();
  return rows[0].map((_, channel) => ({
    channel,
    mean: rows[0][channel],
    std: rows[1][channel],
    min: rows[2][channel],
    max: rows[3][channel],
    positive: rows[4][channel],
  }));
}
