/** Fan-in and fan-out of a parameter, as torch.nn.init and Keras define them. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/**
 * Parameter layouts:
 * - `'HWIO'`: tfjs conv kernel `[...kernel, in, out]` (conv1d/2d/3d; `[in, out]` at rank 2).
 *   For a grouped conv `in` is the per-group input count, as in PyTorch.
 * - `'IO'`: tfjs / Keras dense kernel `[in, out]`.
 * - `'HWCM'`: tfjs depthwise kernel `[kh, kw, C, M]`, fans as PyTorch computes them for the
 *   same layer (weight `[C*M, 1, kh, kw]`): fanIn = kh*kw, fanOut = C*M*kh*kw. (Keras and
 *   tfjs-layers treat the depthwise kernel as a conv kernel; use `'HWIO'` for their fans.)
 * - `'OIHW'`: PyTorch conv weight `[out, in, ...kernel]`; `'OI'`: PyTorch linear `[out, in]`.
 */
export type Layout = 'HWIO' | 'IO' | 'HWCM' | 'OIHW' | 'OI';

const LAYOUTS: readonly Layout[] = ['HWIO', 'IO', 'HWCM', 'OIHW', 'OI'];

/**
 * Fans of a parameter of `shape` in `layout`:
 * fanIn = inputs x receptive field, fanOut = outputs x receptive field.
 *
 * ```ts
 * computeFans([3, 3, 16, 32], 'HWIO'); // { fanIn: 144, fanOut: 288 }
 * ```
 */
export function computeFans(shape: readonly number[], layout: Layout = 'HWIO'): Fans {
  const fn = 'computeFans';
  if (!LAYOUTS.includes(layout)) {
    throw new Error(
      `${fn}: unknown layout '${layout}'; expected one of ${LAYOUTS.map((l) => `'${l}'`).join(', ')}`,
    );
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `${fn}: expected a shape of non-negative integers, received [${String(shape)}]`,
    );
  }
  const rank = shape.length;
  const needRank = (ok: boolean, expected: string) => {
    if (!ok) {
      throw new Error(
        `${fn}: layout '${layout}' expects ${expected}, received shape [${shape.join(', ')}]`,
      );
    }
  };
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  switch (layout) {
    case 'IO':
      needRank(rank === 2, 'rank 2 [in, out]');
      return { fanIn: shape[0], fanOut: shape[1] };
    case 'OI':
      needRank(rank === 2, 'rank 2 [out, in]');
      return { fanIn: shape[1], fanOut: shape[0] };
    case 'HWIO': {
      needRank(rank >= 2, 'rank >= 2 [...kernel, in, out]');
      const rf = product(shape.slice(0, -2));
      return { fanIn: shape[rank - 2] * rf, fanOut: shape[rank - 1] * rf };
    }
    case 'HWCM': {
      needRank(rank >= 3, 'rank >= 3 [...kernel, channels, multiplier]');
      const rf = product(shape.slice(0, -2));
      return { fanIn: rf, fanOut: shape[rank - 2] * shape[rank - 1] * rf };
    }
    case 'OIHW': {
      needRank(rank >= 2, 'rank >= 2 [out, in, ...kernel]');
      const rf = product(shape.slice(2));
      return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
    }
  }
}
