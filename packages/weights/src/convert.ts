import {
  type FlattenedFrom,
  fromPyTorchLayout,
  type ParamLayout,
  toPyTorchLayout,
} from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { define } from './internal/select';

/** A layout, optionally with the expected convkit shape (checked, and gives HWCM's multiplier). */
export interface LayoutSpec {
  layout: ParamLayout;
  shape?: readonly number[];
}

/** Layout per state-dict key; build it from a convkit module with
 * `Object.fromEntries(model.namedParameters().map(([k, p]) => [k, { layout: p.layout, shape: p.shape }]))`
 * plus `'vector'` / `'scalar'` for its buffers. */
export type LayoutMap = Record<string, ParamLayout | LayoutSpec>;

export interface ConvertStateDictOptions {
  /** `[C, H, W]` per linear weight key (`fc.weight`) or module (`fc`) that follows a flatten. */
  flattenedFrom?: Record<string, FlattenedFrom>;
  /** Throw one error listing every problem instead of returning them (default false). */
  strict?: boolean;
}

export interface ShapeProblem {
  key: string;
  /** What was expected, in words or as a shape. */
  expected: string;
  received: number[];
}

export interface ConvertStateDictResult {
  /** Converted tensors (new; the caller owns them), for the keys that converted cleanly. */
  tensors: Record<string, tf.Tensor>;
  /** Keys in the layout map but not in the input. */
  missing: string[];
  /** Keys in the input but not in the layout map (not converted). */
  unexpected: string[];
  /** Keys whose tensor did not fit its layout or expected shape (not converted). */
  misShaped: ShapeProblem[];
}

function specOf(value: ParamLayout | LayoutSpec): LayoutSpec {
  return typeof value === 'string' ? { layout: value } : value;
}

function flattenFor(
  key: string,
  hints: Record<string, FlattenedFrom> | undefined,
): FlattenedFrom | undefined {
  if (!hints) return undefined;
  if (Object.hasOwn(hints, key)) return hints[key];
  const module = key.endsWith('.weight') ? key.slice(0, -'.weight'.length) : undefined;
  return module !== undefined && Object.hasOwn(hints, module) ? hints[module] : undefined;
}

function convertAll(
  direction: 'fromPyTorch' | 'toPyTorch',
  state: Record<string, tf.Tensor>,
  layouts: LayoutMap,
  options: ConvertStateDictOptions,
): ConvertStateDictResult {
  const tensors: Record<string, tf.Tensor> = {};
  const missing = Object.keys(layouts).filter((k) => !Object.hasOwn(state, k));
  const unexpected = Object.keys(state).filter((k) => !Object.hasOwn(layouts, k));
  const misShaped: ShapeProblem[] = [];
  // In layout-map order (the module's order), whatever the input's order.
  for (const key of Object.keys(layouts)) {
    if (!Object.hasOwn(state, key)) continue;
    const value = state[key];
    const spec = specOf(layouts[key]);
    const flattenedFrom = spec.layout === 'IO' ? flattenFor(key, options.flattenedFrom) : undefined;
    // The expected shape is convkit's: checked after fromPyTorch, before toPyTorch.
    if (
      direction === 'toPyTorch' &&
      spec.shape &&
      !tf.util.arraysEqual(value.shape, [...spec.shape])
    ) {
      misShaped.push({ key, expected: `[${spec.shape.join(', ')}]`, received: [...value.shape] });
      continue;
    }
    let converted: tf.Tensor;
    try {
      converted =
        direction === 'fromPyTorch'
          ? fromPyTorchLayout(value, spec.layout, {
              flattenedFrom,
              depthMultiplier: spec.shape?.[3],
            })
          : toPyTorchLayout(value, spec.layout, { flattenedFrom });
    } catch (error) {
      misShaped.push({ key, expected: (error as Error).message, received: [...value.shape] });
      continue;
    }
    if (
      direction === 'fromPyTorch' &&
      spec.shape &&
      !tf.util.arraysEqual(converted.shape, [...spec.shape])
    ) {
      misShaped.push({
        key,
        expected: `convkit shape [${spec.shape.join(', ')}] (${spec.layout}), the converted tensor is [${converted.shape.join(', ')}]`,
        received: [...value.shape],
      });
      converted.dispose();
      continue;
    }
    define(tensors, key, converted);
  }
  if (options.strict && (missing.length > 0 || unexpected.length > 0 || misShaped.length > 0)) {
    for (const t of Object.values(tensors)) t.dispose();
    const problems = [
      ...misShaped.map(
        (p) => `${p.key}: expected ${p.expected}, received [${p.received.join(', ')}]`,
      ),
      ...missing.map((k) => `missing key ${k}`),
      ...unexpected.map((k) => `unexpected key ${k}`),
    ];
    throw new Error(
      `${direction === 'fromPyTorch' ? 'convertStateDict' : 'exportStateDict'}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
    );
  }
  return { tensors, missing, unexpected, misShaped };
}

/**
 * Convert a PyTorch state dict (PyTorch layouts, e.g. read from a safetensors written by
 * `pth_to_safetensors.py`) to convkit layouts, key by key as `layouts` says. Every problem is
 * reported together: missing keys, unexpected keys and mis-shaped tensors (or one error listing
 * them all with `strict`). The input tensors are not disposed.
 */
export function convertStateDict(
  pytorchState: Record<string, tf.Tensor>,
  layouts: LayoutMap,
  options: ConvertStateDictOptions = {},
): ConvertStateDictResult {
  return convertAll('fromPyTorch', pytorchState, layouts, options);
}

/** The inverse of `convertStateDict`: convkit layouts to PyTorch's, for export. */
export function exportStateDict(
  convkitState: Record<string, tf.Tensor>,
  layouts: LayoutMap,
  options: ConvertStateDictOptions = {},
): ConvertStateDictResult {
  return convertAll('toPyTorch', convkitState, layouts, options);
}
