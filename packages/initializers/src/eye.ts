import type { Initializer } from './initializer';
import { checkOptions, structured } from './internal/base';

/**
 * The identity matrix for a rank-2 parameter (`torch.nn.init.eye_`): ones on the main
 * diagonal, zeros elsewhere; for a non-square shape, as many ones as the smaller dimension.
 * The same values in [in, out] and [out, in] layouts (each is the other's transpose).
 */
export function eye(options?: Record<string, never>): Initializer {
  checkOptions('eye', options, []);
  return structured('eye', {}, (shape) => {
    if (shape.length !== 2) {
      throw new Error(`eye: expected a rank-2 shape, received [${shape.join(', ')}]`);
    }
    const [rows, cols] = shape;
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = 1;
    return out;
  });
}
