import type { Initializer } from './initializer';
import { checkFinite, checkOptions, elementwise } from './internal/base';

/** Every element equal to `value` (`torch.nn.init.constant_`). */
export function constant(value: number): Initializer {
  checkFinite('constant', 'value', value);
  return elementwise('constant', { value }, () => ({ kind: 'constant', value }));
}

/** All zeros (`torch.nn.init.zeros_`; the Keras and tfjs bias default). */
export function zeros(options?: Record<string, never>): Initializer {
  checkOptions('zeros', options, []);
  return elementwise('zeros', {}, () => ({ kind: 'constant', value: 0 }));
}

/** All ones (`torch.nn.init.ones_`). */
export function ones(options?: Record<string, never>): Initializer {
  checkOptions('ones', options, []);
  return elementwise('ones', {}, () => ({ kind: 'constant', value: 1 }));
}
