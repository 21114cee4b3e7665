import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise, fansOf } from './internal/base';

export interface XavierOptions {
  /** Scaling factor (see calculateGain). Default 1. */
  gain?: number;
}

/**
 * Xavier / Glorot uniform as `torch.nn.init.xavier_uniform_`:
 * U(-b, b), b = gain * sqrt(6 / (fanIn + fanOut)). Same distribution as Keras / tfjs
 * `glorotUniform` when gain = 1.
 */
export function xavierUniform(options: XavierOptions = {}): Initializer {
  const fn = 'xavierUniform';
  checkOptions(fn, options, ['gain']);
  const { gain = 1 } = options;
  checkFinite(fn, 'gain', gain);
  return elementwise(fn, { gain }, (shape, o) => {
    const { fanIn, fanOut } = fansOf(fn, shape, o);
    const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
    return { kind: 'uniform', low: -bound, high: bound };
  });
}

/**
 * Xavier / Glorot normal as `torch.nn.init.xavier_normal_`: an UN-truncated
 * N(0, std^2), std = gain * sqrt(2 / (fanIn + fanOut)). (Keras's glorot_normal draws a
 * truncated normal with the same std: see `glorotNormal`.)
 */
export function xavierNormal(options: XavierOptions = {}): Initializer {
  const fn = 'xavierNormal';
  checkOptions(fn, options, ['gain']);
  const { gain = 1 } = options;
  checkFinite(fn, 'gain', gain);
  return elementwise(fn, { gain }, (shape, o) => {
    const { fanIn, fanOut } = fansOf(fn, shape, o);
    return { kind: 'normal', mean: 0, std: gain * Math.sqrt(2 / (fanIn + fanOut)) };
  });
}
