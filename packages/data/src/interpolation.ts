/** How geometric transforms read between pixels: bilinear for images, nearest for masks. */
export type Interpolation = 'nearest' | 'bilinear';

export function checkInterpolation(value: unknown, what: string): Interpolation {
  if (value !== 'nearest' && value !== 'bilinear') {
    throw new Error(`${what}: interpolation must be 'nearest' or 'bilinear', received ${value}`);
  }
  return value;
}
