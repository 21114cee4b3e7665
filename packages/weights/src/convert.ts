import * as tf from '@tensorflow/tfjs-core';
import { define } from './internal/select';

/**
 * How a convkit parameter's axes are laid out (the `layout` tag of `@convkit/layers` params,
 * repeated here so this package does not depend on layers).
 *
 * | convkit layout | convkit shape         | PyTorch shape                     |
 * | -------------- | --------------------- | --------------------------------- |
 * | `HWIO`         | `[kh, kw, in/g, out]` | `[out, in/g, kh, kw]` (OIHW)      |
 * | `HWCM`         | `[kh, kw, C, M]`      | `[C*M, 1, kh, kw]` (groups = C)   |
 * | `HWOI`         | `[kh, kw, out, in]`   | `[in, out, kh, kw]` (ConvTranspose2d, groups 1) |
 * | `IO`           | `[in, out]`           | `[out, in]`                       |
 * | `vector`       | `[C]`                 | `[C]`                             |
 * | `scalar`       | any                   | the same                          |
 */
export type ParamLayout = 'HWIO' | 'HWCM' | 'HWOI' | 'IO' | 'vector' | 'scalar';

export const PARAM_LAYOUTS: readonly ParamLayout[] = [
  'HWIO',
  'HWCM',
  'HWOI',
  'IO',
  'vector',
  'scalar',
];

/** A layout, optionally with the expected convkit shape (checked, and gives HWCM's multiplier). */
export interface LayoutSpec {
  layout: ParamLayout;
  shape?: readonly number[];
}

/** Layout per state-dict key; build it from a convkit module with
 * `Object.fromEntries(model.namedParameters().map(([k, p]) => [k, { layout: p.layout, shape: p.shape }]))`
 * plus `'vector'` / `'scalar'` for its buffers. */
export type LayoutMap = Record<string, ParamLayout | LayoutSpec>;

/** `[C, H, W]` of the NCHW activation a linear layer's input was flattened from. */
export type FlattenedFrom = readonly [number, number, number];

export interface LayoutOptions {
  /** For an `IO` weight after a flatten: reorder its input columns from CHW (PyTorch) to HWC (convkit). */
  flattenedFrom?: FlattenedFrom;
  /** For `HWCM` from PyTorch: the channel multiplier M (default: from `shape`, else 1). */
  depthMultiplier?: number;
}

function fail(message: string): never {
  throw new Error(message);
}

function expectRank(tensor: tf.Tensor, rank: number, what: string): void {
  if (tensor.rank !== rank) fail(`${what} expects rank ${rank}, received shape [${tensor.shape}]`);
}

/**
 * One tensor from its PyTorch layout to convkit's. Returns a new tensor.
 * - HWIO: `[O, I, kh, kw]` -> `[kh, kw, I, O]`
 * - HWCM: `[C*M, 1, kh, kw]` -> `[kh, kw, C, M]` (PyTorch output channel c*M + m)
 * - HWOI: `[in, out, kh, kw]` -> `[kh, kw, out, in]`
 * - IO: `[out, in]` -> `[in, out]`; with `flattenedFrom: [C, H, W]` the input columns are
 *   reordered from PyTorch's `c*H*W + h*W + w` to convkit's NHWC flatten `h*W*C + w*C + c`
 * - vector, scalar: copied
 */
export function fromPyTorch(
  tensor: tf.Tensor,
  layout: ParamLayout,
  options: LayoutOptions = {},
): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'HWIO':
        expectRank(tensor, 4, 'HWIO (from PyTorch [out, in, kh, kw])');
        return tf.transpose(tensor, [2, 3, 1, 0]);
      case 'HWOI':
        expectRank(tensor, 4, 'HWOI (from PyTorch ConvTranspose2d [in, out, kh, kw])');
        return tf.transpose(tensor, [2, 3, 1, 0]);
      case 'HWCM': {
        expectRank(tensor, 4, 'HWCM (from PyTorch depthwise [C*M, 1, kh, kw])');
        const [cm, one, kh, kw] = tensor.shape as number[];
        const m = options.depthMultiplier ?? 1;
        if (one !== 1)
          fail(
            `HWCM expects PyTorch shape [C*M, 1, kh, kw] (groups = C), received [${tensor.shape}]`,
          );
        if (!Number.isInteger(m) || m < 1 || cm % m !== 0) {
          fail(`HWCM: ${cm} output channels are not a multiple of the depth multiplier ${m}`);
        }
        return tf.transpose(tf.reshape(tensor, [cm / m, m, kh, kw]), [2, 3, 0, 1]);
      }
      case 'IO': {
        expectRank(tensor, 2, 'IO (from PyTorch [out, in])');
        if (!options.flattenedFrom) return tf.transpose(tensor, [1, 0]);
        const [c, h, w] = options.flattenedFrom;
        const [out, inFeatures] = tensor.shape as number[];
        if (c * h * w !== inFeatures) {
          fail(
            `IO: flattenedFrom [C, H, W] = [${c}, ${h}, ${w}] has ${c * h * w} features, the weight has ${inFeatures} inputs`,
          );
        }
        return tf.reshape(tf.transpose(tf.reshape(tensor, [out, c, h, w]), [2, 3, 1, 0]), [
          h * w * c,
          out,
        ]);
      }
      case 'vector':
        expectRank(tensor, 1, 'vector');
        return tf.clone(tensor);
      case 'scalar':
        return tf.clone(tensor);
      default:
        return fail(
          `unknown layout ${JSON.stringify(layout)} (expected one of ${PARAM_LAYOUTS.join(', ')})`,
        );
    }
  });
}

/** One tensor from convkit's layout back to PyTorch's (the inverse of `fromPyTorch`). */
export function toPyTorch(
  tensor: tf.Tensor,
  layout: ParamLayout,
  options: LayoutOptions = {},
): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'HWIO':
      case 'HWOI':
        expectRank(tensor, 4, layout);
        return tf.transpose(tensor, [3, 2, 0, 1]);
      case 'HWCM': {
        expectRank(tensor, 4, 'HWCM [kh, kw, C, M]');
        const [kh, kw, c, m] = tensor.shape as number[];
        return tf.reshape(tf.transpose(tensor, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
      }
      case 'IO': {
        expectRank(tensor, 2, 'IO [in, out]');
        if (!options.flattenedFrom) return tf.transpose(tensor, [1, 0]);
        const [c, h, w] = options.flattenedFrom;
        const [inFeatures, out] = tensor.shape as number[];
        if (c * h * w !== inFeatures) {
          fail(
            `IO: flattenedFrom [C, H, W] = [${c}, ${h}, ${w}] has ${c * h * w} features, the weight has ${inFeatures} inputs`,
          );
        }
        return tf.reshape(tf.transpose(tf.reshape(tensor, [h, w, c, out]), [3, 2, 0, 1]), [
          out,
          c * h * w,
        ]);
      }
      case 'vector':
        expectRank(tensor, 1, 'vector');
        return tf.clone(tensor);
      case 'scalar':
        return tf.clone(tensor);
      default:
        return fail(
          `unknown layout ${JSON.stringify(layout)} (expected one of ${PARAM_LAYOUTS.join(', ')})`,
        );
    }
  });
}

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
          ? fromPyTorch(value, spec.layout, { flattenedFrom, depthMultiplier: spec.shape?.[3] })
          : toPyTorch(value, spec.layout, { flattenedFrom });
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
