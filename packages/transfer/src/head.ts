import { Dropout, Linear, Module, ReLU, Sequential } from '@convkit/layers';
import type { ZooModel } from '@convkit/zoo';
import { moduleAt, replaceModuleAt } from './internal/paths';

/** A new classifier head: one linear layer, or several fully connected layers. */
export interface HeadOptions {
  /** Hidden widths: `[]` (default) is a single Linear; `[256]` is Linear-ReLU-Dropout-Linear. */
  hidden?: readonly number[];
  /** Dropout before each linear layer after the first (default 0.5 with hidden layers). */
  dropout?: number;
}

/**
 * Build a head `inFeatures -> numClasses`: a `Linear`, or with `hidden` widths
 * `Linear, ReLU, Dropout, ..., Linear` (keys `0.weight`, `3.weight`, ... under the classifier's
 * prefix). Layers use PyTorch's default initialization.
 */
export function createHead(
  inFeatures: number,
  numClasses: number,
  options: HeadOptions = {},
): Module {
  for (const [name, value] of [
    ['inFeatures', inFeatures],
    ['numClasses', numClasses],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`createHead: expected ${name} to be a positive integer, received ${value}`);
    }
  }
  const hidden = options.hidden ?? [];
  for (const [i, h] of hidden.entries()) {
    if (!Number.isInteger(h) || h < 1) {
      throw new Error(`createHead: expected hidden[${i}] to be a positive integer, received ${h}`);
    }
  }
  const p = options.dropout ?? 0.5;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new Error(`createHead: expected dropout in [0, 1), received ${p}`);
  }
  if (hidden.length === 0) return new Linear({ inFeatures, outFeatures: numClasses });
  const layers: Module[] = [];
  let width = inFeatures;
  for (const h of hidden) {
    layers.push(new Linear({ inFeatures: width, outFeatures: h }), new ReLU(), new Dropout({ p }));
    width = h;
  }
  layers.push(new Linear({ inFeatures: width, outFeatures: numClasses }));
  return new Sequential(...layers);
}

/** The input width of a head: its first Linear's `inFeatures`, or undefined if it has none. */
export function headInputWidth(head: Module): number | undefined {
  for (const [, m] of head.namedModules()) {
    if (m instanceof Linear) return m.config.inFeatures;
  }
  return undefined;
}

/** The output width of a head: its last Linear's `outFeatures`. */
export function headOutputWidth(head: Module): number | undefined {
  let out: number | undefined;
  for (const [, m] of head.namedModules()) if (m instanceof Linear) out = m.config.outFeatures;
  return out;
}

/** The width of the features a zoo model's classifier receives (its current classifier's input). */
export function encoderWidth(model: ZooModel): number {
  const classifier = moduleAt(model, model.info.classifier, 'resetClassifier');
  const width = headInputWidth(classifier);
  if (width === undefined) {
    throw new Error(
      `resetClassifier: ${model.info.name}'s classifier ${JSON.stringify(model.info.classifier)} (${classifier.constructor.name}) is not a linear layer; replace it by path with a head of matching width`,
    );
  }
  return width;
}

/**
 * Replace a zoo model's classifier (`model.info.classifier`, e.g. `fc` or `classifier.6`) by a
 * new head for `numClasses` classes: a single Linear (default), the fully connected layers of
 * `HeadOptions`, or a given Module, whose input width must equal the encoder's output width (an
 * error names both). The old classifier's variables are disposed, and `config.numClasses`
 * follows, so a checkpoint of the model rebuilds it (`toJSON` describes a single-Linear head: a
 * model with `hidden` layers or a custom head is not rebuilt from `toJSON` alone). Returns the
 * new head.
 */
export function resetClassifier(
  model: ZooModel,
  numClasses: number,
  head: HeadOptions | Module = {},
): Module {
  const width = encoderWidth(model);
  let replacement: Module;
  if (head instanceof Module) {
    const input = headInputWidth(head);
    if (input !== undefined && input !== width) {
      throw new Error(
        `resetClassifier: the head takes ${input} input features, but ${model.info.name}'s encoder gives ${width} (the input of ${JSON.stringify(model.info.classifier)})`,
      );
    }
    const output = headOutputWidth(head);
    if (output !== undefined && output !== numClasses) {
      throw new Error(
        `resetClassifier: the head gives ${output} outputs, expected numClasses ${numClasses}`,
      );
    }
    replacement = head;
  } else {
    replacement = createHead(width, numClasses, head);
  }
  const previous = replaceModuleAt(model, model.info.classifier, replacement, 'resetClassifier');
  if (previous !== replacement) previous.dispose();
  // The model's config follows (as adaptInputChannels does for inChannels), so `toJSON` and a
  // checkpoint rebuild the model with its new class count (exactly, for the default Linear head).
  const config = model.config as { numClasses?: number };
  if (config.numClasses !== undefined) {
    (model as { config: object }).config = Object.freeze({ ...model.config, numClasses });
  }
  return replacement;
}

/** What to train for a given amount of data (the course's rule, see `chooseHead`). */
export interface HeadRecommendation {
  strategy: 'last-fc' | 'several-fc' | 'fine-tune';
  head: HeadOptions;
  /** Stages to unfreeze for fine-tuning after the head (0: keep the encoder frozen). */
  unfreezeStages: number;
  reason: string;
}

/**
 * Pick a head from the number of training images per class, following the course's rule:
 * with little data train only a new last fully connected layer on the frozen encoder (more
 * parameters would overfit); with more, several fully connected layers; with plenty, several
 * fully connected layers and then fine-tuning of the top stages. Thresholds (heuristics, not
 * measured per dataset): under 100 images per class `last-fc`; 100 to 999 `several-fc`
 * (`hidden: [256]`, dropout 0.5); 1000 or more `fine-tune` (the same head, then the top 2
 * stages). The package's RESULTS.md reports what the numbers say on Fashion-MNIST.
 */
export function chooseHead(samplesPerClass: number): HeadRecommendation {
  if (!(samplesPerClass > 0)) {
    throw new Error(`chooseHead: expected samplesPerClass > 0, received ${samplesPerClass}`);
  }
  if (samplesPerClass < 100) {
    return {
      strategy: 'last-fc',
      head: {},
      unfreezeStages: 0,
      reason: `${samplesPerClass} images per class: train only a new last FC layer on the frozen encoder`,
    };
  }
  if (samplesPerClass < 1000) {
    return {
      strategy: 'several-fc',
      head: { hidden: [256], dropout: 0.5 },
      unfreezeStages: 0,
      reason: `${samplesPerClass} images per class: several FC layers on the frozen encoder`,
    };
  }
  return {
    strategy: 'fine-tune',
    head: { hidden: [256], dropout: 0.5 },
    unfreezeStages: 2,
    reason: `${samplesPerClass} images per class: several FC layers, then fine-tune the top 2 stages`,
  };
}
