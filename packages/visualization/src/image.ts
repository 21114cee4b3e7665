import type * as tf from '@tensorflow/tfjs-core';
import { encode } from 'fast-png';
import { type ColormapName, colormapTable } from './colormap';

/** An 8-bit RGBA raster, row major (the layout of the DOM's `ImageData`). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** How values map to [0, 255]: their min..max, -max|v|..max|v|, or a given range. */
export type ValueRange = 'minmax' | 'symmetric' | readonly [number, number];

export interface ToImageOptions {
  /** Default 'minmax' (over the whole tensor, all channels together). */
  range?: ValueRange;
  /** For one-channel data. Default 'gray'. */
  colormap?: ColormapName;
}

/** The numeric range `range` denotes for `values`. */
function resolveRange(values: ArrayLike<number>, range: ValueRange): [number, number] {
  if (Array.isArray(range) || typeof range !== 'string') {
    const [lo, hi] = range as readonly [number, number];
    return [lo, hi];
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (range === 'symmetric') {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  if (range !== 'minmax') {
    throw new Error(
      `toImage: option 'range' must be 'minmax', 'symmetric' or [min, max]; received ${JSON.stringify(range)}`,
    );
  }
  return [lo, hi];
}

/**
 * An image from `height * width * channels` values (channels 1 or 3, channels last): values
 * are mapped linearly from the range to [0, 255] (a constant image maps to 0) and clamped; one
 * channel goes through the colormap.
 */
export function valuesToImage(
  values: ArrayLike<number>,
  height: number,
  width: number,
  channels: 1 | 3,
  { range = 'minmax', colormap = 'gray' }: ToImageOptions = {},
): RgbaImage {
  if (values.length !== height * width * channels) {
    throw new Error(
      `toImage: expected ${height}x${width}x${channels} = ${height * width * channels} values; received ${values.length}`,
    );
  }
  const [lo, hi] = resolveRange(values, range);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const level = (v: number) => Math.max(0, Math.min(255, Math.round((v - lo) * scale)));
  const data = new Uint8ClampedArray(height * width * 4);
  const table = colormapTable(colormap);
  for (let p = 0; p < height * width; p++) {
    if (channels === 1) {
      const l = level(values[p]);
      data[4 * p] = table[3 * l];
      data[4 * p + 1] = table[3 * l + 1];
      data[4 * p + 2] = table[3 * l + 2];
    } else {
      for (let c = 0; c < 3; c++) data[4 * p + c] = level(values[3 * p + c]);
    }
    data[4 * p + 3] = 255;
  }
  return { width, height, data };
}

/**
 * Read a tensor back as an image: `[H, W]`, `[H, W, 1]`, `[H, W, 3]` or the same with a batch of
 * one in front. The tensor is not disposed.
 */
export async function tensorToImage(
  tensor: tf.Tensor,
  options: ToImageOptions = {},
): Promise<RgbaImage> {
  let shape = tensor.shape;
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  const [height, width, channels = 1] = shape;
  if (shape.length < 2 || shape.length > 3 || (channels !== 1 && channels !== 3)) {
    throw new Error(
      `tensorToImage: expected a tensor [H, W], [H, W, 1] or [H, W, 3] (optionally with a batch of 1); received [${tensor.shape.join(', ')}]`,
    );
  }
  return valuesToImage(await tensor.data(), height, width, channels as 1 | 3, options);
}

/** Each pixel repeated `factor` times along both axes (nearest neighbour), for small maps. */
export function upscale(image: RgbaImage, factor: number): RgbaImage {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`upscale: 'factor' must be a positive integer; received ${factor}`);
  }
  if (factor === 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8ClampedArray(width * height * 4);
  const aligned = image.data.byteOffset % 4 === 0 ? image.data : new Uint8ClampedArray(image.data);
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * image.width;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[row + Math.floor(x / factor)];
  }
  return { width, height, data };
}

export interface TileOptions {
  /** Tiles per row. Default ceil(sqrt(count)). */
  columns?: number;
  /** Pixels between tiles and around them. Default 1. */
  padding?: number;
  /** RGBA of the padding. Default white. */
  background?: readonly [number, number, number, number];
}

/** The images in a grid, row by row; cells have the largest tile's size. */
export function tileImages(images: readonly RgbaImage[], options: TileOptions = {}): RgbaImage {
  if (images.length === 0) throw new Error('tileImages: expected at least one image; received 0');
  const columns = options.columns ?? Math.ceil(Math.sqrt(images.length));
  const padding = options.padding ?? 1;
  const background = options.background ?? [255, 255, 255, 255];
  const rows = Math.ceil(images.length / columns);
  const cellW = Math.max(...images.map((i) => i.width));
  const cellH = Math.max(...images.map((i) => i.height));
  const width = columns * cellW + (columns + 1) * padding;
  const height = rows * cellH + (rows + 1) * padding;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(background, 4 * p);
  images.forEach((image, k) => {
    const x0 = padding + (k % columns) * (cellW + padding);
    const y0 = padding + Math.floor(k / columns) * (cellH + padding);
    for (let y = 0; y < image.height; y++) {
      const from = y * image.width * 4;
      data.set(image.data.subarray(from, from + image.width * 4), ((y0 + y) * width + x0) * 4);
    }
  });
  return { width, height, data };
}

export interface OverlayOptions {
  /** Opacity of the heatmap. Default 0.5. */
  alpha?: number;
  /** Default 'inferno'. */
  colormap?: ColormapName;
  /** Range of the heat values. Default [0, max] (a ReLU'd map such as Grad-CAM's). */
  range?: ValueRange;
}

/**
 * `heat` (`[H, W]` values, the image's size) through a colormap, blended over `image`.
 */
export function overlayHeatmap(
  image: RgbaImage,
  heat: ArrayLike<number>,
  { alpha = 0.5, colormap = 'inferno', range }: OverlayOptions = {},
): RgbaImage {
  if (heat.length !== image.width * image.height) {
    throw new Error(
      `overlayHeatmap: expected ${image.height}x${image.width} heat values (the image's size); received ${heat.length}`,
    );
  }
  let max = 0;
  for (let i = 0; i < heat.length; i++) max = Math.max(max, heat[i]);
  const colored = valuesToImage(heat, image.height, image.width, 1, {
    colormap,
    range: range ?? [0, max || 1],
  });
  const data = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = i % 4 === 3 ? 255 : (1 - alpha) * image.data[i] + alpha * colored.data[i];
  }
  return { width: image.width, height: image.height, data };
}

/** PNG bytes of the image (fast-png, pure JS: Node and browsers). */
export function encodePng(image: RgbaImage): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    channels: 4,
    depth: 8,
  });
}

/** The image as a DOM `ImageData` (browsers, or Node with a canvas library that defines it). */
export function toImageData(image: RgbaImage): ImageData {
  if (typeof ImageData === 'undefined') {
    throw new Error(
      'toImageData: ImageData is not defined here (a browser is needed); use encodePng in Node',
    );
  }
  return new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
}

/** Draw the image at (0, 0) of a canvas, resizing the canvas to it. */
export function drawToCanvas(image: RgbaImage, canvas: HTMLCanvasElement | OffscreenCanvas): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d') as
    | CanvasRenderingContext2D
    | OffscreenCanvasRenderingContext2D
    | null;
  if (!context) throw new Error('drawToCanvas: the canvas has no 2d context');
  context.putImageData(toImageData(image), 0, 0);
}

/** Base64 of bytes, without Node's Buffer (browsers too). */
export function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface LabeledGridOptions {
  /** Tiles per row. Default ceil(sqrt(count)). */
  columns?: number;
  /** Nearest-neighbour scale of each tile. Default 1. */
  scale?: number;
  /** Label font size in pixels. Default 12. */
  fontSize?: number;
  /** A title above the grid. */
  title?: string;
}

/**
 * A grid of images with a label under each as SVG (the tiles are embedded PNGs, drawn
 * pixelated; `\n` breaks a label into lines). Show it in a browser as is; `svgToPng` renders it to PNG in Node.
 */
export function labeledGridSvg(
  tiles: readonly { image: RgbaImage; label?: string }[],
  { columns, scale = 1, fontSize = 12, title }: LabeledGridOptions = {},
): string {
  if (tiles.length === 0) throw new Error('labeledGridSvg: expected at least one tile; received 0');
  const cols = columns ?? Math.ceil(Math.sqrt(tiles.length));
  const cellW = Math.max(...tiles.map((t) => t.image.width)) * scale;
  const cellH = Math.max(...tiles.map((t) => t.image.height)) * scale;
  const gap = 6;
  // A label may have several lines ('\n'); every row gets room for the longest.
  const labelLines = Math.max(0, ...tiles.map((t) => (t.label ? t.label.split('\n').length : 0)));
  const labelH = labelLines ? Math.round(fontSize * (0.3 + 1.2 * labelLines)) : 0;
  const titleH = title ? Math.round(fontSize * 2) : 0;
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * (cellW + gap) + gap;
  const height = titleH + rows * (cellH + labelH + gap) + gap;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (title) {
    parts.push(
      `<text x="${width / 2}" y="${fontSize * 1.4}" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    );
  }
  tiles.forEach(({ image, label }, k) => {
    const x = gap + (k % cols) * (cellW + gap);
    const y = titleH + gap + Math.floor(k / cols) * (cellH + labelH + gap);
    const w = image.width * scale;
    const h = image.height * scale;
    parts.push(
      `<image x="${x}" y="${y}" width="${w}" height="${h}" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,${base64(encodePng(image))}"/>`,
    );
    for (const [line, text] of (label ? label.split('\n') : []).entries()) {
      parts.push(
        `<text x="${x + cellW / 2}" y="${y + cellH + fontSize * (1.15 + 1.2 * line)}" text-anchor="middle">${escapeXml(text)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
