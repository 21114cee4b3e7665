import { computeFans } from '@convkit/backend';
import type { Initializer } from '@convkit/initializers';
import type { Param } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Overwrite `param` with a sample of `init` (PyTorch's `nn.init.*_`, in place), with torch's
 * fans of its layout. A vector or scalar has none (torch refuses them too): the zoo only gives
 * those fan-free initializers such as `zeros`.
 */
export function reinit(param: Param | undefined, init: Initializer): void {
  if (!param) return;
  const hasFans = param.layout !== 'vector' && param.layout !== 'scalar';
  const fans = hasFans ? computeFans(param.shape, param.layout) : undefined;
  const value = init.tensor(param.shape, { fans });
  param.variable.assign(value);
  value.dispose();
}

/** Fill `param` with a constant. */
export function fill(param: Param | undefined, value: number): void {
  if (!param) return;
  tf.tidy(() => param.variable.assign(tf.fill(param.shape, value)));
}
