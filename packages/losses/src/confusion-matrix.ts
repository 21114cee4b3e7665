import { checkOptions } from './internal/checks';
import { checkLabels, checkNumClasses, labelsOf, read } from './internal/read';
import type { MetricInput } from './metric-input';

/**
 * Confusion matrix as sklearn orders it: `matrix[trueClass][predictedClass]` counts.
 * `input` holds labels or scores with a trailing class axis. Shape: target [N, ...].
 */
export async function confusionMatrix(
  input: MetricInput,
  target: MetricInput,
  options: { numClasses: number },
): Promise<number[][]> {
  const fn = 'confusionMatrix';
  checkOptions(fn, options, ['numClasses']);
  const k = checkNumClasses(fn, options?.numClasses);
  const t = await read(fn, 'target', target);
  const { labels } = labelsOf(fn, await read(fn, 'input', input), t);
  checkLabels(fn, 'target', t.values, k);
  checkLabels(fn, 'input', labels, k);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) m[t.values[i]][labels[i]]++;
  return m;
}
