import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise } from './internal/base';

export interface UniformOptions {
  /** Lower bound (PyTorch `a`). Default 0. */
  low?: number;
  /** Upper bound (PyTorch `b`). Default 1. */
  high?: number;
}

/** U(low, high) (`torch.nn.init.uniform_`, defaults a=0, b=1). */
export function uniform(options: UniformOptions = {}): Initializer {
  checkOptions('uniform', options, ['low', 'high']);
  const { low = 0, high = 1 } = options;
  checkFinite('uniform', 'low', low);
  checkFinite('uniform', 'high', high);
  if (!(high >= low)) {
    throw new Error(`uniform: expected low <= high, received low=${low}, high=${high}`);
  }
  return elementwise('uniform', { low, high }, () => ({ kind: 'uniform', low, high }));
}
