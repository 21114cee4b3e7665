import { checkOptions } from './internal/checks';
import { checkLabels, checkNumClasses, labelsOf, read } from './internal/read';
import type { MetricInput } from './metric-input';

/**
 * Mean intersection-over-union for segmentation: IoU_c = TP / (TP + FP + FN) per class over
 * all pixels, averaged over the classes that appear in the target or the prediction (a class
 * absent from both has no IoU: `null` in perClass, left out of the mean).
 * Pixels whose target equals `ignoreIndex` (e.g. 255) are skipped.
 * Shape: target [N, H, W]; input labels [N, H, W] or NHWC scores [N, H, W, C].
 */
export async function meanIoU(
  input: MetricInput,
  target: MetricInput,
  options: { numClasses: number; ignoreIndex?: number },
): Promise<{ meanIoU: number; perClass: (number | null)[] }> {
  const fn = 'meanIoU';
  checkOptions(fn, options, ['numClasses', 'ignoreIndex']);
  const k = checkNumClasses(fn, options?.numClasses);
  const ignore = options.ignoreIndex ?? null;
  const t = await read(fn, 'target', target);
  const { labels } = labelsOf(fn, await read(fn, 'input', input), t);
  checkLabels(fn, 'target', t.values, k, ignore);
  checkLabels(fn, 'input', labels, k);
  const inter = new Array<number>(k).fill(0);
  const union = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = t.values[i];
    if (y === ignore) continue;
    const p = labels[i];
    union[y]++;
    if (p === y) inter[y]++;
    else union[p]++;
  }
  const perClass = inter.map((v, c) => (union[c] === 0 ? null : v / union[c]));
  const present = perClass.filter((v): v is number => v !== null);
  const mean =
    present.length === 0 ? Number.NaN : present.reduce((a, b) => a + b, 0) / present.length;
  return { meanIoU: mean, perClass };
}
