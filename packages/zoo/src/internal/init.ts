import type { Initializer } from '@convkit/initializers';
import type { Param } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';

/** PyTorch's fans of a parameter stored in a convkit layout. */
export function fansOf(param: Param): { fanIn: number; fanOut: number } {
  const s = param.shape;
  switch (param.layout) {
    case 'HWIO': // PyTorch [O, I/g, kh, kw]
      return { fanIn: s[0] * s[1] * s[2], fanOut: s[0] * s[1] * s[3] };
    case 'HWCM': // PyTorch [C*M, 1, kh, kw]
      return { fanIn: s[0] * s[1], fanOut: s[0] * s[1] * s[2] * s[3] };
    case 'HWOI': // PyTorch [in, out, kh, kw]
      return { fanIn: s[0] * s[1] * s[2], fanOut: s[0] * s[1] * s[3] };
    case 'IO':
      return { fanIn: s[0], fanOut: s[1] };
    default:
      return { fanIn: s[0] ?? 1, fanOut: s[0] ?? 1 };
  }
}

/** Overwrite `param` with a sample of `init` (PyTorch's `nn.init.*_`, in place). */
export function reinit(param: Param | undefined, init: Initializer): void {
  if (!param) return;
  const value = init.tensor(param.shape, { fans: fansOf(param) });
  param.variable.assign(value);
  value.dispose();
}

/** Fill `param` with a constant. */
export function fill(param: Param | undefined, value: number): void {
  if (!param) return;
  tf.tidy(() => param.variable.assign(tf.fill(param.shape, value)));
}
