import type { Initializer } from './initializer';
import { checkOptions, structured } from './internal/base';

export interface DiracOptions {
  /** Number of conv groups; the output count must be divisible by it. Default 1. */
  groups?: number;
}

/**
 * The Dirac delta for a conv kernel (`torch.nn.init.dirac_`): a convolution that passes its
 * input channels through unchanged (as many as it has outputs per group). Rank 3, 4 or 5.
 *
 * Layout 'HWIO' (default): [...kernel, in / groups, out]; element
 * [center..., d, g * outPerGroup + d] is 1 for d < min(outPerGroup, in / groups).
 * Layout 'OIHW': PyTorch's [out, in / groups, ...kernel]. The center is floor(k / 2) per axis.
 */
export function dirac(options: DiracOptions = {}): Initializer {
  const fn = 'dirac';
  checkOptions(fn, options, ['groups']);
  const { groups = 1 } = options;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${fn}: expected groups to be a positive integer, received ${String(groups)}`);
  }
  return structured(fn, { groups }, (shape, o) => {
    const rank = shape.length;
    if (rank < 3 || rank > 5) {
      throw new Error(
        `${fn}: expected a conv kernel of rank 3, 4 or 5, received [${shape.join(', ')}]`,
      );
    }
    const torchLayout = o.layout === 'OIHW';
    if (o.layout !== undefined && o.layout !== 'OIHW' && o.layout !== 'HWIO') {
      throw new Error(`${fn}: expected layout 'HWIO' or 'OIHW', received '${o.layout}'`);
    }
    const outAxis = torchLayout ? 0 : rank - 1;
    const inAxis = torchLayout ? 1 : rank - 2;
    const kernelAxes = torchLayout ? [2, 3, 4].slice(0, rank - 2) : [0, 1, 2].slice(0, rank - 2);
    const out = shape[outAxis];
    if (out % groups !== 0) {
      throw new Error(
        `${fn}: output channels ${out} (shape [${shape.join(', ')}]) are not divisible by groups ${groups}`,
      );
    }
    const outPerGroup = out / groups;
    const minDim = Math.min(outPerGroup, shape[inAxis]);
    const strides = new Array<number>(rank);
    strides[rank - 1] = 1;
    for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
    const size = shape.reduce((a, b) => a * b, 1);
    const result = new Float32Array(size);
    if (size === 0) return result;
    let center = 0;
    for (const axis of kernelAxes) center += Math.floor(shape[axis] / 2) * strides[axis];
    for (let g = 0; g < groups; g++) {
      for (let d = 0; d < minDim; d++) {
        result[center + d * strides[inAxis] + (g * outPerGroup + d) * strides[outAxis]] = 1;
      }
    }
    return result;
  });
}
