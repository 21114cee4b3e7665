/** Nonlinearity names, spelled as torch.nn.init.calculate_gain spells them. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

const UNIT_GAIN = [
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'sigmoid',
];

/**
 * The recommended gain for a nonlinearity, exactly as `torch.nn.init.calculate_gain`:
 * linear / conv / sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)) with
 * `param` the negative slope (default 0.01), selu 3/4.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (UNIT_GAIN.includes(nonlinearity)) return 1;
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new Error(
          `calculateGain: negative slope ${String(param)} is not a valid number for 'leaky_relu'`,
        );
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(
        `calculateGain: unsupported nonlinearity '${String(nonlinearity)}'; expected one of ${[...UNIT_GAIN, 'tanh', 'relu', 'leaky_relu', 'selu'].map((n) => `'${n}'`).join(', ')}`,
      );
  }
}
