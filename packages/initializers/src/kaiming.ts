import { calculateGain, type Nonlinearity } from './calculate-gain';
import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise, fansOf } from './internal/base';

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (only used with 'leaky_relu'). Default 0. */
  a?: number;
  /** 'fanIn' preserves the forward variance, 'fanOut' the backward one. Default 'fanIn'. */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leaky_relu' (with a = 0 that is the relu gain sqrt(2)), as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(fn: string, options: KaimingOptions) {
  checkOptions(fn, options, ['a', 'mode', 'nonlinearity']);
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = options;
  checkFinite(fn, 'a', a);
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new Error(`${fn}: unknown mode '${String(mode)}'; expected 'fanIn' or 'fanOut'`);
  }
  const gain = calculateGain(nonlinearity, a);
  const config = { a, mode, nonlinearity };
  const std = (shape: readonly number[], o: Parameters<typeof fansOf>[2]) => {
    const fans = fansOf(fn, shape, o);
    const fan = mode === 'fanIn' ? fans.fanIn : fans.fanOut;
    return gain / Math.sqrt(fan);
  };
  return { config, std };
}

/**
 * Kaiming / He uniform as `torch.nn.init.kaiming_uniform_`: U(-b, b) with
 * b = gain * sqrt(3 / fan), gain = calculateGain(nonlinearity, a).
 *
 * PyTorch's conv and linear default is `kaimingUniform({ a: Math.sqrt(5) })`, which is
 * U(+-1/sqrt(fanIn)).
 */
export function kaimingUniform(options: KaimingOptions = {}): Initializer {
  const { config, std } = kaimingStd('kaimingUniform', options);
  return elementwise('kaimingUniform', config, (shape, o) => {
    const bound = Math.sqrt(3) * std(shape, o);
    return { kind: 'uniform', low: -bound, high: bound };
  });
}

/**
 * Kaiming / He normal as `torch.nn.init.kaiming_normal_`: an UN-truncated N(0, std^2),
 * std = gain / sqrt(fan).
 */
export function kaimingNormal(options: KaimingOptions = {}): Initializer {
  const { config, std } = kaimingStd('kaimingNormal', options);
  return elementwise('kaimingNormal', config, (shape, o) => ({
    kind: 'normal',
    mean: 0,
    std: std(shape, o),
  }));
}
