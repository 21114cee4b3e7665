import { isPyTorchLayout } from '@convkit/backend';
import { globalRandom } from '@convkit/backend/random';
import type { Initializer } from './initializer';
import { checkFinite, checkOptions, structured } from './internal/base';
import { orthogonalFromMatrix } from './internal/qr';

export interface OrthogonalOptions {
  /** Multiplier of the orthogonal matrix. Default 1. */
  gain?: number;
}

/**
 * A (semi-)orthogonal matrix, as `torch.nn.init.orthogonal_`: QR of a standard normal matrix,
 * Q's columns multiplied by sign(diag(R)), times `gain`.
 *
 * The matrix is the parameter viewed as outputs x inputs. With tfjs layouts ('HWIO', 'IO',
 * default) the outputs are the LAST axis, so the view is [prod(shape[:-1]), shape[-1]] and
 * the columns are orthonormal when shape[-1] <= prod(shape[:-1]) (Keras's view); with
 * PyTorch layouts ('OIHW', 'IOHW', 'OI') it is [shape[0], prod(shape[1:])] as in PyTorch. Either way the
 * same layer gets an orthogonal map of the same kind. Rank >= 2.
 */
export function orthogonal(options: OrthogonalOptions = {}): Initializer {
  const fn = 'orthogonal';
  checkOptions(fn, options, ['gain']);
  const { gain = 1 } = options;
  checkFinite(fn, 'gain', gain);
  return structured(fn, { gain }, (shape, o) => {
    if (shape.length < 2) {
      throw new Error(`${fn}: expected a shape of rank >= 2, received [${shape.join(', ')}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    if (size === 0) return out;
    const random = o.random ?? globalRandom();
    const torchLayout = o.layout !== undefined && isPyTorchLayout(o.layout);
    if (torchLayout) {
      const rows = shape[0];
      const cols = size / rows;
      out.set(orthogonalFromMatrix(random.normalArray(size), rows, cols, gain));
    } else {
      // The PyTorch construction on the [out, in] matrix, written back transposed.
      const cols = shape[shape.length - 1];
      const rows = size / cols;
      const q = orthogonalFromMatrix(random.normalArray(size), cols, rows, gain);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) out[i * cols + j] = q[j * rows + i];
    }
    return out;
  });
}
