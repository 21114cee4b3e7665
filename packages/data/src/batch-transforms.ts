import { globalRandom, type RandomSource } from '@convkit/backend';
import { sampleBeta } from './internal/distributions';

/**
 * A batch as the loader builds it on the CPU, before the single upload to tensors.
 * `x` is `[N, H, W, C]` row-major float32; `labels` are the hard class indices; `soft`, once a
 * batch transform has mixed labels, is `[N, numClasses]` float32 and becomes the `y` tensor.
 */
export interface HostBatch {
  x: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  soft?: Float32Array;
  numClasses?: number;
  /** The dataset index of each sample. */
  indices: Int32Array;
  /**
   * Dense targets instead of class labels (then `labels` is empty): multi-hot `[N, C]`
   * float32 for multi-label samples, `[N, H, W]` int32 class ids for segmentation masks.
   */
  target?: { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
}

/**
 * A per-batch transform on the host batch (returns a new batch or the same one modified; the
 * loader owns it). Runs after the per-sample transforms, before the upload, on the same
 * seeded stream as the batch's samples.
 */
export type BatchTransform = (batch: HostBatch, random?: RandomSource) => HostBatch;

/** The soft labels of a batch: its `soft` array or one-hot of `labels`. */
export function softLabels(batch: HostBatch, numClasses?: number): Float32Array {
  const k = numClasses ?? batch.numClasses;
  const n = batch.shape[0];
  if (batch.soft) return batch.soft;
  if (!k) {
    throw new Error(
      'soft labels need numClasses: pass it to mixup / cutmix or to the DataLoader (or use a dataset with classNames)',
    );
  }
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const label = batch.labels[i];
    if (!(label >= 0 && label < k)) {
      throw new Error(`label ${label} of sample ${i} is outside [0, ${k})`);
    }
    out[i * k + label] = 1;
  }
  return out;
}

export interface MixOptions {
  /** Beta(alpha, alpha) parameter of the mixing weight (default 1, as torchvision v2). */
  alpha?: number;
  /** Number of classes for the soft labels (default: from the loader / dataset). */
  numClasses?: number;
}

function mixLabels(soft: Float32Array, n: number, k: number, lambda: number): Float32Array {
  // Sample i is mixed with sample i - 1 (torchvision v2's `roll(1, 0)`).
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const j = (i + n - 1) % n;
    for (let c = 0; c < k; c++)
      out[i * k + c] = lambda * soft[i * k + c] + (1 - lambda) * soft[j * k + c];
  }
  return out;
}

/**
 * MixUp (Zhang et al. 2018): one lambda ~ Beta(alpha, alpha) per batch; every sample becomes
 * `lambda * x_i + (1 - lambda) * x_{i-1}` with labels mixed the same way, so `y` becomes
 * `[N, numClasses]` float32 soft labels.
 */
export function mixup(options: MixOptions = {}): BatchTransform {
  const alpha = options.alpha ?? 1;
  if (!(alpha > 0)) throw new Error(`mixup: expected alpha > 0, received ${alpha}`);
  return (batch, random) => {
    const r = random ?? globalRandom();
    const [n, h, w, c] = batch.shape;
    const k = options.numClasses ?? batch.numClasses;
    const soft = softLabels(batch, k);
    const kk = soft.length / n;
    const lambda = sampleBeta(alpha, alpha, r);
    const size = h * w * c;
    const x = new Float32Array(batch.x.length);
    for (let i = 0; i < n; i++) {
      const a = i * size;
      const b = ((i + n - 1) % n) * size;
      for (let q = 0; q < size; q++)
        x[a + q] = lambda * batch.x[a + q] + (1 - lambda) * batch.x[b + q];
    }
    return { ...batch, x, soft: mixLabels(soft, n, kk, lambda), numClasses: kk };
  };
}

/**
 * CutMix (Yun et al. 2019): lambda ~ Beta(alpha, alpha); a box of side ratio sqrt(1 - lambda)
 * centred at a uniform random point (clipped to the image) is pasted from sample i - 1 into
 * sample i, and the labels are mixed by the pasted area's actual fraction.
 */
export function cutmix(options: MixOptions = {}): BatchTransform {
  const alpha = options.alpha ?? 1;
  if (!(alpha > 0)) throw new Error(`cutmix: expected alpha > 0, received ${alpha}`);
  return (batch, random) => {
    const r = random ?? globalRandom();
    const [n, h, w, c] = batch.shape;
    const soft = softLabels(batch, options.numClasses ?? batch.numClasses);
    const kk = soft.length / n;
    const lambda = sampleBeta(alpha, alpha, r);
    const cx = r.int(0, w);
    const cy = r.int(0, h);
    const ratio = Math.sqrt(1 - lambda);
    const halfW = Math.floor((ratio * w) / 2);
    const halfH = Math.floor((ratio * h) / 2);
    const x0 = Math.max(cx - halfW, 0);
    const x1 = Math.min(cx + halfW, w);
    const y0 = Math.max(cy - halfH, 0);
    const y1 = Math.min(cy + halfH, h);
    const x = Float32Array.from(batch.x);
    const size = h * w * c;
    for (let i = 0; i < n; i++) {
      const a = i * size;
      const b = ((i + n - 1) % n) * size;
      for (let yy = y0; yy < y1; yy++) {
        const row = (yy * w + x0) * c;
        x.set(batch.x.subarray(b + row, b + row + (x1 - x0) * c), a + row);
      }
    }
    const adjusted = 1 - ((x1 - x0) * (y1 - y0)) / (w * h);
    return { ...batch, x, soft: mixLabels(soft, n, kk, adjusted), numClasses: kk };
  };
}

/**
 * Pick one of `transforms` uniformly per call (e.g. `randomChoice([mixup(), cutmix()])`, as
 * timm / torchvision v2 do). Works for per-sample and per-batch transforms alike.
 */
export function randomChoice<A, R>(
  transforms: readonly ((input: A, random?: RandomSource) => R)[],
): (input: A, random?: RandomSource) => R {
  if (transforms.length === 0) throw new Error('randomChoice: expected at least one transform');
  return (input, random) => {
    const r = random ?? globalRandom();
    return transforms[r.int(0, transforms.length)](input, r);
  };
}
