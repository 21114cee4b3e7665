import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise, fansOf } from './internal/base';
import { TRUNCATED_NORMAL_STD_AT_2 } from './truncated-normal';

export interface VarianceScalingOptions {
  /** Default 1. */
  scale?: number;
  /** Which fan divides `scale`. Default 'fanIn'. */
  mode?: 'fanIn' | 'fanOut' | 'fanAvg';
  /**
   * - 'truncatedNormal' (default, Keras): normal truncated at +-2 std, its std divided by
   *   0.87962566103423978 so that the SAMPLES have std sqrt(scale / n).
   * - 'tfjsTruncatedNormal' (tfjs-layers' 'normal'): the same truncation WITHOUT the
   *   correction, so samples have std 0.8796 sqrt(scale / n) (about 12% too narrow).
   * - 'untruncatedNormal': N(0, scale / n).
   * - 'uniform': U(+-sqrt(3 scale / n)).
   */
  distribution?: 'truncatedNormal' | 'tfjsTruncatedNormal' | 'untruncatedNormal' | 'uniform';
}

const DISTRIBUTIONS = ['truncatedNormal', 'tfjsTruncatedNormal', 'untruncatedNormal', 'uniform'];
const MODES = ['fanIn', 'fanOut', 'fanAvg'];

/**
 * Keras's VarianceScaling: samples with variance scale / n, n = fanIn, fanOut or their
 * average (at least 1, as Keras).
 */
export function varianceScaling(options: VarianceScalingOptions = {}): Initializer {
  return scaled(options, 'varianceScaling');
}

function scaled(options: VarianceScalingOptions, name: string): Initializer {
  checkOptions(name, options, ['scale', 'mode', 'distribution']);
  const { scale = 1, mode = 'fanIn', distribution = 'truncatedNormal' } = options;
  checkFinite(name, 'scale', scale);
  if (!(scale > 0)) throw new Error(`${name}: expected scale > 0, received ${scale}`);
  if (!MODES.includes(mode)) {
    throw new Error(
      `${name}: unknown mode '${String(mode)}'; expected one of ${MODES.map((m) => `'${m}'`).join(', ')}`,
    );
  }
  if (!DISTRIBUTIONS.includes(distribution)) {
    throw new Error(
      `${name}: unknown distribution '${String(distribution)}'; expected one of ${DISTRIBUTIONS.map((d) => `'${d}'`).join(', ')}`,
    );
  }
  return elementwise(name, { scale, mode, distribution }, (shape, o) => {
    const { fanIn, fanOut } = fansOf(name, shape, o);
    const n = mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const variance = scale / Math.max(1, n);
    switch (distribution) {
      case 'uniform': {
        const limit = Math.sqrt(3 * variance);
        return { kind: 'uniform', low: -limit, high: limit };
      }
      case 'untruncatedNormal':
        return { kind: 'normal', mean: 0, std: Math.sqrt(variance) };
      default: {
        const std =
          distribution === 'truncatedNormal'
            ? Math.sqrt(variance) / TRUNCATED_NORMAL_STD_AT_2
            : Math.sqrt(variance);
        return { kind: 'truncatedNormal', mean: 0, std, low: -2 * std, high: 2 * std };
      }
    }
  });
}

type NoOptions = Record<string, never>;

function preset(name: string, preset: VarianceScalingOptions) {
  return (options?: NoOptions): Initializer => {
    checkOptions(name, options, []);
    return scaled(preset, name);
  };
}

/** Keras / tfjs glorot_uniform: U(+-sqrt(6 / (fanIn + fanOut))). */
export const glorotUniform = preset('glorotUniform', { mode: 'fanAvg', distribution: 'uniform' });
/** Keras glorot_normal: truncated normal whose samples have std sqrt(2 / (fanIn + fanOut)). */
export const glorotNormal = preset('glorotNormal', {
  mode: 'fanAvg',
  distribution: 'truncatedNormal',
});
/** Keras he_uniform: U(+-sqrt(6 / fanIn)) (= kaimingUniform() for relu). */
export const heUniform = preset('heUniform', { scale: 2, mode: 'fanIn', distribution: 'uniform' });
/** Keras he_normal: truncated normal whose samples have std sqrt(2 / fanIn). */
export const heNormal = preset('heNormal', {
  scale: 2,
  mode: 'fanIn',
  distribution: 'truncatedNormal',
});
/** Keras lecun_uniform: U(+-sqrt(3 / fanIn)). */
export const lecunUniform = preset('lecunUniform', { mode: 'fanIn', distribution: 'uniform' });
/** Keras lecun_normal: truncated normal whose samples have std sqrt(1 / fanIn). */
export const lecunNormal = preset('lecunNormal', {
  mode: 'fanIn',
  distribution: 'truncatedNormal',
});
