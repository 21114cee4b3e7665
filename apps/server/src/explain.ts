import type { Module } from '@convkit/layers';
import {
  encodePng,
  galleryLayers,
  gradCam,
  overlayHeatmap,
  type RgbaImage,
  saliency,
  upscale,
  valuesToImage,
} from '@convkit/visualization';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from './inference';
import type { LoadedModel } from './model-files';

/** The attributions `convkit explain` and `POST /v1/models/{name}/explain` compute. */
export const EXPLAIN_METHODS = ['gradcam', 'saliency'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

export interface ExplainOptions {
  /** Default `gradcam`. */
  method?: ExplainMethod;
  /** Class index explained; default the predicted class. */
  target?: number;
  /** Grad-CAM: state-dict path of the layer; default `defaultExplainLayer(model)`. */
  layer?: string;
  /** The PNG's smallest side, reached by an integer nearest-neighbour upscale. Default 224. */
  minSide?: number;
}

/** One image's explanation: the class, the heatmap values and the PNG drawn from them. */
export interface Explanation {
  method: ExplainMethod;
  /** Grad-CAM's layer (null for saliency). */
  layer: string | null;
  /** The class explained, its label and probability, and the predicted class. */
  target: number;
  label: string;
  probability: number;
  predicted: number;
  /** The heatmap at the model's input size, row-major `[height, width]`: Grad-CAM's ReLU'd
   * class activation map (bilinear from the layer's resolution), or saliency's max over
   * channels of |d score / d pixel|. Raw values, not rescaled. */
  height: number;
  width: number;
  heatmap: Float32Array;
  /** The heatmap (inferno, scaled to [0, max]) over the model's input, as PNG bytes. */
  png: Uint8Array;
}

/**
 * Grad-CAM's default layer: the last convolution, with the activation that follows it when
 * there is one (`features.4` in LeNet-5, `layer3.2.conv2` in a CIFAR ResNet), as the gallery of
 * `@convkit/visualization` picks it.
 */
export function defaultExplainLayer(model: Module): string {
  const layer = galleryLayers(model).activated.at(-1);
  if (!layer) throw new InputError('the model has no Conv2d layer to explain with Grad-CAM');
  return layer;
}

/** The state-dict paths of modules with a spatial output, the layers Grad-CAM can explain. */
export function spatialLayers(loaded: LoadedModel): string[] {
  const paths: string[] = [];
  // Shape inference is tensor-free: walk every module and keep those with an [N, h, w, C] output.
  const shapes = new Map<string, number>();
  const handles = loaded.model.namedModules().map(([path, m]) =>
    (m as Module).registerForwardHook((_module, _inputs, output) => {
      if (output instanceof tf.Tensor) shapes.set(path, output.rank);
      return undefined;
    }),
  );
  try {
    tf.tidy(() => {
      loaded.model.forward(tf.zeros([1, ...loaded.inputSize]));
    });
  } finally {
    for (const h of handles) h.remove();
  }
  for (const [path, rank] of shapes) if (path !== '' && rank === 4) paths.push(path);
  return paths;
}

/**
 * Check the options against the model before any tensor is made: an unknown method, a layer
 * that does not exist or has no spatial output (the error lists the valid paths), a class out of
 * range. Returns the layer Grad-CAM will use.
 */
export function checkExplainOptions(loaded: LoadedModel, options: ExplainOptions): string | null {
  const method = options.method ?? 'gradcam';
  if (!(EXPLAIN_METHODS as readonly string[]).includes(method)) {
    throw new InputError(
      `unknown method '${method}'; expected one of ${EXPLAIN_METHODS.join(', ')}`,
    );
  }
  const classes = loaded.classNames.length;
  const { target } = options;
  if (target !== undefined && (!Number.isInteger(target) || target < 0 || target >= classes)) {
    throw new InputError(
      `target class ${target} is out of range for model '${loaded.name}': expected an integer in [0, ${classes - 1}]`,
    );
  }
  if (method === 'saliency') {
    if (options.layer !== undefined) {
      throw new InputError("'layer' applies to gradcam only; saliency explains the input pixels");
    }
    return null;
  }
  if (options.layer === undefined) return defaultExplainLayer(loaded.model);
  const valid = spatialLayers(loaded);
  if (!valid.includes(options.layer)) {
    throw new InputError(
      `layer '${options.layer}' is not a layer with a spatial output [N, h, w, C] in model '${loaded.name}'; valid layers: ${valid.join(', ')}`,
    );
  }
  return options.layer;
}

/**
 * Explain one preprocessed input (`[H, W, C]`, normalized as `preprocess` gives it): the
 * attribution for `target` (default the predicted class) and its PNG. Leaves
 * `tf.memory().numTensors` where it was.
 */
export async function explainInput(
  loaded: LoadedModel,
  input: Float32Array,
  options: ExplainOptions = {},
): Promise<Explanation> {
  const layer = checkExplainOptions(loaded, options);
  const method = options.method ?? 'gradcam';
  const [height, width, channels] = loaded.inputSize;
  const x = tf.tensor4d(input, [1, height, width, channels]);
  try {
    const probs = tf.tidy(() => {
      const out = loaded.model.forward(x);
      return tf.softmax((Array.isArray(out) ? out[0] : out) as tf.Tensor2D);
    });
    const probabilities = (await probs.data()) as Float32Array;
    probs.dispose();
    let predicted = 0;
    for (let i = 1; i < probabilities.length; i++)
      if (probabilities[i] > probabilities[predicted]) predicted = i;
    const target = options.target ?? predicted;
    let heat: tf.Tensor;
    if (method === 'gradcam') {
      const cam = gradCam(loaded.model, x, { layer: layer as string, target });
      cam.weights.dispose();
      cam.cam.dispose();
      heat = cam.heatmap;
    } else {
      const sal = saliency(loaded.model, x, { target });
      sal.gradient.dispose();
      heat = sal.map;
    }
    const heatmap = (await heat.data()) as Float32Array;
    heat.dispose();
    // The input as the model saw it: undo the normalization, then draw it in [0, 1].
    const shown = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const c = i % channels;
      shown[i] = input[i] * loaded.std[c] + loaded.mean[c];
    }
    const base = valuesToImage(shown, height, width, channels === 3 ? 3 : 1, { range: [0, 1] });
    const overlay = overlayHeatmap(base, heatmap, { alpha: 0.55 });
    const factor = Math.max(1, Math.ceil((options.minSide ?? 224) / Math.min(height, width)));
    const image: RgbaImage = upscale(overlay, factor);
    return {
      method,
      layer,
      target,
      label: loaded.classNames[target] ?? String(target),
      probability: probabilities[target],
      predicted,
      height,
      width,
      heatmap,
      png: encodePng(image),
    };
  } finally {
    x.dispose();
  }
}

/** An explanation as JSON (the heatmap as an array of rows), without the PNG. */
export function explanationJson(e: Explanation) {
  const rows: number[][] = [];
  for (let y = 0; y < e.height; y++)
    rows.push(Array.from(e.heatmap.subarray(y * e.width, (y + 1) * e.width)));
  return {
    method: e.method,
    layer: e.layer,
    target: e.target,
    label: e.label,
    probability: e.probability,
    predicted: e.predicted,
    height: e.height,
    width: e.width,
    heatmap: rows,
  };
}
