import type { Module } from '@convkit/layers';
import type { FeatureInfo, ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { stagePath } from './freeze';
import { capture } from './internal/capture';
import { moduleAt } from './internal/paths';

/**
 * Intermediate outputs of a model by state-dict path (torchvision's
 * `create_feature_extractor`): `forward(x)` runs the model until the last requested module
 * and returns `{ [outputName]: tensor }` (the caller owns the tensors). The model itself is
 * unchanged; its parameters are shared, not copied.
 */
export class FeatureExtractor {
  /** Output name -> module path. */
  readonly nodes: Readonly<Record<string, string>>;
  private readonly targets: Map<string, Module>;

  constructor(
    readonly model: Module,
    nodes: Record<string, string>,
    /** Per output: channels and total stride, when known (`featuresOnly`). */
    readonly featureInfo?: readonly FeatureInfo[],
  ) {
    const entries = Object.entries(nodes);
    if (entries.length === 0) {
      throw new Error('createFeatureExtractor: expected at least one return node, received none');
    }
    this.targets = new Map();
    for (const [name, path] of entries) {
      this.targets.set(name, moduleAt(model, path, 'createFeatureExtractor'));
    }
    this.nodes = Object.freeze({ ...nodes });
  }

  /** The requested outputs for input `x` (NHWC), in the order the nodes were given. */
  forward(x: tf.Tensor): Record<string, tf.Tensor> {
    const captured = capture(() => this.model.forward(x), this.targets, 'output');
    const missing = Object.keys(this.nodes).filter((name) => !captured.has(name));
    if (missing.length > 0) {
      tf.dispose([...captured.values()]);
      throw new Error(
        `createFeatureExtractor: the forward pass never ran ${missing.map((n) => JSON.stringify(this.nodes[n])).join(', ')} (in this mode; e.g. auxiliary heads run only in train mode)`,
      );
    }
    const out: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.nodes)) out[name] = captured.get(name) as tf.Tensor;
    return out;
  }

  /** `forward`'s outputs as a list, in node order. */
  forwardList(x: tf.Tensor): tf.Tensor[] {
    return Object.values(this.forward(x));
  }
}

/**
 * A feature extractor over `returnNodes`: module paths (each output named by its path) or a
 * map path -> output name, as torchvision's. An unknown path is refused, naming the valid ones.
 */
export function createFeatureExtractor(
  model: Module,
  returnNodes: readonly string[] | Readonly<Record<string, string>>,
): FeatureExtractor {
  const nodes: Record<string, string> = {};
  if (Array.isArray(returnNodes)) for (const path of returnNodes) nodes[path] = path;
  else for (const [path, name] of Object.entries(returnNodes)) nodes[name as string] = path;
  return new FeatureExtractor(model, nodes);
}

export interface FeaturesOnlyOptions {
  /** Which stages of `model.info.featureInfo` (indices or module names). Default all. */
  outIndices?: readonly (number | string)[];
}

/**
 * The stage outputs of a zoo model (timm's `features_only`), from its `info.featureInfo`:
 * each output is named by its module path and described (channels, reduction) in
 * `featureInfo`, in stage order.
 */
export function featuresOnly(model: ZooModel, options: FeaturesOnlyOptions = {}): FeatureExtractor {
  const all = model.info.featureInfo;
  const picked = (options.outIndices ?? all.map((_, i) => i)).map((s) =>
    stagePath(model, s, 'featuresOnly'),
  );
  const info = picked.map((path) => all.find((f) => f.module === path) as FeatureInfo);
  return new FeatureExtractor(model, Object.fromEntries(picked.map((p) => [p, p])), info);
}
