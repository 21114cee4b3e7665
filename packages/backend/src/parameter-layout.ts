import * as tf from '@tensorflow/tfjs-core';

/**
 * How a convkit parameter's axes are laid out (tfjs-native layouts), and PyTorch's counterpart:
 *
 * | convkit layout | convkit shape           | PyTorch layout and shape                         |
 * | -------------- | ----------------------- | ------------------------------------------------ |
 * | `HWIO`         | `[kh, kw, in/g, out]`   | `OIHW` `[out, in/g, kh, kw]` (Conv2d)            |
 * | `HWCM`         | `[kh, kw, C, M]`        | `OIHW` `[C*M, 1, kh, kw]` (depthwise, groups = C) |
 * | `HWOI`         | `[kh, kw, out/g, in]`   | `IOHW` `[in, out/g, kh, kw]` (ConvTranspose2d)   |
 * | `IO`           | `[in, out]`             | `OI` `[out, in]` (Linear)                        |
 * | `vector`       | `[C]`                   | the same (biases, norm scales, running stats)    |
 * | `scalar`       | any                     | the same (nothing to permute)                    |
 */
export type ParamLayout = 'HWIO' | 'HWCM' | 'HWOI' | 'IO' | 'vector' | 'scalar';

/** PyTorch's parameter layouts: conv and depthwise `OIHW`, transposed conv `IOHW`, linear `OI`. */
export type PyTorchLayout = 'OIHW' | 'IOHW' | 'OI';

/** Any layout a parameter's shape can be given in: convkit's or PyTorch's. */
export type AnyLayout = ParamLayout | PyTorchLayout;

export const PARAM_LAYOUTS: readonly ParamLayout[] = [
  'HWIO',
  'HWCM',
  'HWOI',
  'IO',
  'vector',
  'scalar',
];

export const PYTORCH_LAYOUTS: readonly PyTorchLayout[] = ['OIHW', 'IOHW', 'OI'];

/** The PyTorch layout of each convkit layout (`vector` and `scalar` are the same in both). */
export const PYTORCH_COUNTERPART: Readonly<
  Record<ParamLayout, PyTorchLayout | 'vector' | 'scalar'>
> = Object.freeze({
  HWIO: 'OIHW',
  HWCM: 'OIHW',
  HWOI: 'IOHW',
  IO: 'OI',
  vector: 'vector',
  scalar: 'scalar',
});

/** Whether `layout` names one of PyTorch's layouts (the shape is PyTorch's). */
export function isPyTorchLayout(layout: AnyLayout): layout is PyTorchLayout {
  return (PYTORCH_LAYOUTS as readonly string[]).includes(layout);
}

function checkLayout(fn: string, layout: string, known: readonly string[]): void {
  if (!known.includes(layout)) {
    throw new Error(
      `${fn}: unknown layout '${layout}'; expected one of ${known.map((l) => `'${l}'`).join(', ')}`,
    );
  }
}

function checkShape(fn: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `${fn}: expected a shape of non-negative integers, received [${String(shape)}]`,
    );
  }
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

// ---- fans --------------------------------------------------------------------------------

/** Fan-in and fan-out of a parameter, as torch.nn.init and Keras define them. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

interface FanAxes {
  minRank: number;
  maxRank?: number;
  expected: string;
  /** The axes that are PyTorch's axis 1 (fanIn) and axis 0 (fanOut); negative from the end. */
  fanIn: readonly number[];
  fanOut: readonly number[];
  /** Whether the receptive field is the axes before the last two or after the first two. */
  field: 'head' | 'tail';
}

/**
 * Where the fans live in each layout. torch's rule is fanIn = size(1) x receptive field and
 * fanOut = size(0) x receptive field of the PyTorch weight. A depthwise kernel's PyTorch axis 1
 * has size 1 and its axis 0 is C*M; a transposed conv's axis 1 is out/g (torch's fans are
 * positional, so they are "backwards" for it, and convkit keeps them so).
 */
const FAN_AXES: Readonly<Record<Exclude<AnyLayout, 'vector' | 'scalar'>, FanAxes>> = {
  HWIO: { minRank: 2, expected: '[...kernel, in, out]', fanIn: [-2], fanOut: [-1], field: 'head' },
  HWOI: { minRank: 2, expected: '[...kernel, out, in]', fanIn: [-2], fanOut: [-1], field: 'head' },
  HWCM: {
    minRank: 3,
    expected: '[...kernel, channels, multiplier]',
    fanIn: [],
    fanOut: [-2, -1],
    field: 'head',
  },
  IO: { minRank: 2, maxRank: 2, expected: '[in, out]', fanIn: [0], fanOut: [1], field: 'head' },
  OIHW: { minRank: 2, expected: '[out, in, ...kernel]', fanIn: [1], fanOut: [0], field: 'tail' },
  IOHW: { minRank: 2, expected: '[in, out, ...kernel]', fanIn: [1], fanOut: [0], field: 'tail' },
  OI: { minRank: 2, maxRank: 2, expected: '[out, in]', fanIn: [1], fanOut: [0], field: 'tail' },
};

/**
 * PyTorch's fans (`torch.nn.init._calculate_fan_in_and_fan_out`) of a parameter of `shape` in
 * `layout`, convkit's or PyTorch's: fanIn = inputs per group x receptive field, fanOut =
 * outputs x receptive field; a depthwise kernel has fanIn = kh*kw and fanOut = C*M*kh*kw, a
 * transposed conv fanIn = out/g*kh*kw and fanOut = in*kh*kw, as torch computes them. A
 * `vector` or `scalar` has no fans (torch refuses fewer than 2 dimensions): give a bias the
 * fans of its weight.
 *
 * ```ts
 * computeFans([3, 3, 16, 32], 'HWIO'); // { fanIn: 144, fanOut: 288 }
 * ```
 */
export function computeFans(shape: readonly number[], layout: AnyLayout = 'HWIO'): Fans {
  const fn = 'computeFans';
  checkLayout(fn, layout, [...PARAM_LAYOUTS, ...PYTORCH_LAYOUTS]);
  checkShape(fn, shape);
  if (layout === 'vector' || layout === 'scalar') {
    throw new Error(
      `${fn}: layout '${layout}' has no fans (torch needs a weight of rank >= 2), received shape [${shape.join(', ')}]; use the fans of its weight`,
    );
  }
  const axes = FAN_AXES[layout];
  const rank = shape.length;
  if (rank < axes.minRank || (axes.maxRank !== undefined && rank > axes.maxRank)) {
    const ranks = axes.maxRank === undefined ? `rank >= ${axes.minRank}` : `rank ${axes.maxRank}`;
    throw new Error(
      `${fn}: layout '${layout}' expects ${ranks} ${axes.expected}, received shape [${shape.join(', ')}]`,
    );
  }
  const size = (list: readonly number[]) => product(list.map((a) => shape[a < 0 ? rank + a : a]));
  const field = axes.field === 'head' ? shape.slice(0, -2) : shape.slice(2);
  const fieldSize = product(field);
  return { fanIn: size(axes.fanIn) * fieldSize, fanOut: size(axes.fanOut) * fieldSize };
}

// ---- permutations ------------------------------------------------------------------------

/** `[C, H, W]` of the NCHW activation a linear layer's input was flattened from. */
export type FlattenedFrom = readonly [number, number, number];

export interface LayoutOptions {
  /**
   * For an `IO` weight after a flatten: PyTorch's input columns come in C, H, W order, convkit's
   * (an NHWC flatten) in H, W, C order; the conversion reorders them.
   */
  flattenedFrom?: FlattenedFrom;
  /** For `HWCM` from PyTorch: the channel multiplier M (default 1). */
  depthMultiplier?: number;
}

/**
 * A layout conversion as three steps on row-major values: view them as `split`, permute the
 * axes (output axis i is axis `perm[i]`, as tf.transpose), view the result as `shape`.
 */
export interface LayoutPermutation {
  split: number[];
  perm: number[];
  shape: number[];
}

function fail(message: string): never {
  throw new Error(message);
}

function expectRank(shape: readonly number[], rank: number, what: string): void {
  if (shape.length !== rank) fail(`${what} expects rank ${rank}, received shape [${shape}]`);
}

function checkFlattened(flat: FlattenedFrom, inFeatures: number): void {
  const [c, h, w] = flat;
  if (c * h * w !== inFeatures) {
    fail(
      `IO: flattenedFrom [C, H, W] = [${c}, ${h}, ${w}] has ${c * h * w} features, the weight has ${inFeatures} inputs`,
    );
  }
}

/** The conversion of a convkit-layout `shape` to PyTorch's layout. */
export function toPyTorchPermutation(
  shape: readonly number[],
  layout: ParamLayout,
  options: LayoutOptions = {},
): LayoutPermutation {
  checkLayout('toPyTorchPermutation', layout, PARAM_LAYOUTS);
  const s = [...shape];
  switch (layout) {
    case 'HWIO':
    case 'HWOI': {
      expectRank(s, 4, `${layout} [kh, kw, ${layout === 'HWIO' ? 'in, out' : 'out, in'}]`);
      const [kh, kw, a, b] = s;
      return { split: s, perm: [3, 2, 0, 1], shape: [b, a, kh, kw] };
    }
    case 'HWCM': {
      expectRank(s, 4, 'HWCM [kh, kw, C, M]');
      const [kh, kw, c, m] = s;
      return { split: s, perm: [2, 3, 0, 1], shape: [c * m, 1, kh, kw] };
    }
    case 'IO': {
      expectRank(s, 2, 'IO [in, out]');
      const [inFeatures, out] = s;
      if (!options.flattenedFrom) return { split: s, perm: [1, 0], shape: [out, inFeatures] };
      checkFlattened(options.flattenedFrom, inFeatures);
      const [c, h, w] = options.flattenedFrom;
      return { split: [h, w, c, out], perm: [3, 2, 0, 1], shape: [out, inFeatures] };
    }
    case 'vector':
      expectRank(s, 1, 'vector');
      return { split: s, perm: [0], shape: s };
    case 'scalar':
      return { split: s, perm: s.map((_, i) => i), shape: s };
  }
}

/** The convkit shape of a parameter whose PyTorch-layout shape is `pytorchShape`. */
export function fromPyTorchShape(
  pytorchShape: readonly number[],
  layout: ParamLayout,
  options: LayoutOptions = {},
): number[] {
  checkLayout('fromPyTorchShape', layout, PARAM_LAYOUTS);
  const s = [...pytorchShape];
  switch (layout) {
    case 'HWIO':
    case 'HWOI': {
      const torch = layout === 'HWIO' ? '[out, in, kh, kw]' : 'ConvTranspose2d [in, out, kh, kw]';
      expectRank(s, 4, `${layout} (from PyTorch ${torch})`);
      const [a, b, kh, kw] = s;
      return [kh, kw, b, a];
    }
    case 'HWCM': {
      expectRank(s, 4, 'HWCM (from PyTorch depthwise [C*M, 1, kh, kw])');
      const [cm, one, kh, kw] = s;
      const m = options.depthMultiplier ?? 1;
      if (one !== 1)
        fail(`HWCM expects PyTorch shape [C*M, 1, kh, kw] (groups = C), received [${s}]`);
      if (!Number.isInteger(m) || m < 1 || cm % m !== 0) {
        fail(`HWCM: ${cm} output channels are not a multiple of the depth multiplier ${m}`);
      }
      return [kh, kw, cm / m, m];
    }
    case 'IO': {
      expectRank(s, 2, 'IO (from PyTorch [out, in])');
      if (options.flattenedFrom) checkFlattened(options.flattenedFrom, s[1]);
      return [s[1], s[0]];
    }
    case 'vector':
      expectRank(s, 1, 'vector');
      return s;
    case 'scalar':
      return s;
  }
}

/** The PyTorch shape of a parameter whose convkit-layout shape is `shape`. */
export function toPyTorchShape(
  shape: readonly number[],
  layout: ParamLayout,
  options: LayoutOptions = {},
): number[] {
  return toPyTorchPermutation(shape, layout, options).shape;
}

/**
 * The conversion of a PyTorch-layout shape to convkit's layout: the inverse of
 * `toPyTorchPermutation` of the convkit shape it has, so round trips are exact by construction.
 */
export function fromPyTorchPermutation(
  pytorchShape: readonly number[],
  layout: ParamLayout,
  options: LayoutOptions = {},
): LayoutPermutation {
  const shape = fromPyTorchShape(pytorchShape, layout, options);
  const to = toPyTorchPermutation(shape, layout, options);
  const perm = new Array<number>(to.perm.length);
  to.perm.forEach((axis, i) => {
    perm[axis] = i;
  });
  return { split: to.perm.map((axis) => to.split[axis]), perm, shape };
}

function applyPermutation(tensor: tf.Tensor, p: LayoutPermutation): tf.Tensor {
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(tensor, p.split), p.perm), p.shape));
}

/** A convkit-layout tensor in PyTorch's layout (a new tensor; the input is not disposed). */
export function toPyTorchLayout(
  tensor: tf.Tensor,
  layout: ParamLayout,
  options: LayoutOptions = {},
): tf.Tensor {
  return applyPermutation(tensor, toPyTorchPermutation(tensor.shape, layout, options));
}

/** A PyTorch-layout tensor in convkit's layout (a new tensor; the input is not disposed). */
export function fromPyTorchLayout(
  tensor: tf.Tensor,
  layout: ParamLayout,
  options: LayoutOptions = {},
): tf.Tensor {
  return applyPermutation(tensor, fromPyTorchPermutation(tensor.shape, layout, options));
}
