// Differentiable image transforms, regularizers and parameterizations for the optimizers
// (reconstruction and activation maximization). Images are [1, H, W, C].
import * as tf from '@tensorflow/tfjs-core';

/** Circular shift by (dy, dx) pixels: slices and concats, so the gradient is exact. */
export function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let out = x;
  const sy = ((dy % h) + h) % h;
  const sx = ((dx % w) + w) % w;
  if (sy)
    out = tf.concat([tf.slice(out, [0, h - sy], [-1, sy]), tf.slice(out, [0, 0], [-1, h - sy])], 1);
  if (sx) {
    out = tf.concat(
      [tf.slice(out, [0, 0, w - sx], [-1, -1, sx]), tf.slice(out, [0, 0, 0], [-1, -1, w - sx])],
      2,
    );
  }
  return out;
}

/** The [n, n] matrix of bilinear resampling about the centre by `scale` (edges clamped). */
function resampleMatrix(n: number, scale: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = Math.min(n - 1, Math.max(0, (i + 0.5 - n / 2) / scale + n / 2 - 0.5));
    const lo = Math.floor(src);
    const hi = Math.min(n - 1, lo + 1);
    const f = src - lo;
    m[i * n + lo] += 1 - f;
    m[i * n + hi] += f;
  }
  return m;
}

/** Zoom about the centre by `scale` (bilinear, separable matrix products: exact gradient). */
export function zoom(x: tf.Tensor4D, scale: number): tf.Tensor4D {
  if (scale === 1) return x;
  const [, h, w, c] = x.shape;
  const rows = tf.tensor2d(resampleMatrix(h, scale), [h, h]);
  const cols = tf.tensor2d(resampleMatrix(w, scale), [w, w]);
  const byRows = tf.reshape(tf.matMul(rows, tf.reshape(x, [h, w * c])), [h, w, c]);
  const t = tf.reshape(tf.transpose(byRows, [1, 0, 2]), [w, h * c]);
  const byCols = tf.transpose(tf.reshape(tf.matMul(cols, t), [w, h, c]), [1, 0, 2]);
  return tf.reshape(byCols, [1, h, w, c]);
}

function rotationMatrix(h: number, w: number, radians: number): number[] {
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0, 0];
}

/**
 * Rotate about the centre by `degrees` (bilinear, edges reflected). tfjs has no gradient for
 * its Transform kernel, so the backward pass rotates the incoming gradient back by -degrees:
 * the adjoint of a rotation of the continuous image, which the bilinear one approaches.
 */
export function rotate(x: tf.Tensor4D, degrees: number): tf.Tensor4D {
  if (degrees === 0) return x;
  const [, h, w] = x.shape;
  const forward = rotationMatrix(h, w, (degrees * Math.PI) / 180);
  const backward = rotationMatrix(h, w, (-degrees * Math.PI) / 180);
  const op = tf.customGrad(((input: tf.Tensor) => {
    return {
      value: tf.image.transform(
        input as tf.Tensor4D,
        tf.tensor2d([forward]),
        'bilinear',
        'reflect',
      ),
      gradFunc: (dy: tf.Tensor) =>
        tf.image.transform(dy as tf.Tensor4D, tf.tensor2d([backward]), 'bilinear', 'constant', 0),
    };
  }) as any);
  return op(x) as tf.Tensor4D;
}

/** Mean squared difference of neighbouring pixels (total variation, beta = 2). */
export function totalVariation(x: tf.Tensor4D): tf.Scalar {
  const [, h, w] = x.shape;
  const dy = tf.sub(tf.slice(x, [0, 1], [-1, h - 1]), tf.slice(x, [0, 0], [-1, h - 1]));
  const dx = tf.sub(
    tf.slice(x, [0, 0, 1], [-1, -1, w - 1]),
    tf.slice(x, [0, 0, 0], [-1, -1, w - 1]),
  );
  return tf.add(tf.mean(tf.square(dy)), tf.mean(tf.square(dx)));
}

/** Mean squared distance outside [lo, hi] (0 inside): keeps pixels in the valid range. */
export function rangePenalty(x: tf.Tensor, lo: number, hi: number): tf.Scalar {
  return tf.mean(tf.add(tf.square(tf.relu(tf.sub(x, hi))), tf.square(tf.relu(tf.sub(lo, x)))));
}

/** A 3x3 Gaussian blur of each channel (a projection step, not differentiated). */
export function blur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const g = [-1, 0, 1].map((d) => Math.exp(-(d * d) / (2 * sigma * sigma)));
  const k: number[] = [];
  const sum = g.reduce((a, b) => a + b, 0) ** 2;
  for (const a of g) for (const b of g) k.push((a * b) / sum);
  const c = x.shape[3];
  const kernel = tf.tile(tf.reshape(tf.tensor1d(k), [3, 3, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
  const padded = tf.mirrorPad(
    x,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'symmetric',
  );
  return tf.depthwiseConv2d(padded, kernel, 1, 'valid');
}

/**
 * Lucid's Fourier image parameterization: the image is the real part of the inverse 2-D DFT
 * of a complex spectrum (re, im: [C, H, W]) scaled by 1 / max(f, 1 / max(H, W))^decay per
 * frequency f (cycles per pixel), so that all frequencies start with equal energy. The DFT is
 * written as products with cosine and sine matrices: exact gradients on every backend.
 */
export class FourierBasis {
  private readonly ch: tf.Tensor2D;
  private readonly sh: tf.Tensor2D;
  private readonly cw: tf.Tensor2D;
  private readonly sw: tf.Tensor2D;
  readonly scale: tf.Tensor3D;

  constructor(
    readonly h: number,
    readonly w: number,
    readonly c: number,
    decay = 1,
  ) {
    const basis = (n: number, f: (a: number) => number) => {
      const m = new Float32Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) m[i * n + j] = f((2 * Math.PI * i * j) / n);
      return tf.tensor2d(m, [n, n]);
    };
    this.ch = basis(h, Math.cos);
    this.sh = basis(h, Math.sin);
    this.cw = basis(w, Math.cos);
    this.sw = basis(w, Math.sin);
    const s = new Float32Array(h * w);
    for (let u = 0; u < h; u++) {
      for (let v = 0; v < w; v++) {
        const fu = Math.min(u, h - u) / h;
        const fv = Math.min(v, w - v) / w;
        s[u * w + v] = 1 / Math.max(Math.hypot(fu, fv), 1 / Math.max(h, w)) ** decay;
      }
    }
    this.scale = tf.tensor3d(s, [1, h, w]);
  }

  /** Real part of IDFT2(scale * (re + i im)), times sqrt(H W): [1, H, W, C]. */
  image(re: tf.Tensor3D, im: tf.Tensor3D): tf.Tensor4D {
    const a = tf.mul(re, this.scale);
    const b = tf.mul(im, this.scale);
    const left = (m: tf.Tensor2D, t: tf.Tensor) =>
      tf.matMul(tf.tile(tf.expandDims(m, 0), [this.c, 1, 1]), t);
    const right = (t: tf.Tensor, m: tf.Tensor2D) =>
      tf.matMul(t, tf.tile(tf.expandDims(m, 0), [this.c, 1, 1]));
    // cos(a + b) = cos a cos b - sin a sin b; sin(a + b) = sin a cos b + cos a sin b.
    const real = tf.sub(
      tf.sub(left(this.ch, right(a, this.cw)), left(this.sh, right(a, this.sw))),
      tf.add(left(this.sh, right(b, this.cw)), left(this.ch, right(b, this.sw))),
    ); // [C, H, W]
    const norm = 1 / Math.sqrt(this.h * this.w);
    return tf.expandDims(tf.transpose(tf.mul(real, norm), [1, 2, 0]), 0) as tf.Tensor4D;
  }

  dispose(): void {
    tf.dispose([this.ch, this.sh, this.cw, this.sw, this.scale]);
  }
}
