import { fmt } from './internal/checks';
import { read } from './internal/read';
import type { MetricInput } from './metric-input';

/**
 * Area under the ROC curve for binary targets (0/1), as sklearn's roc_auc_score: tied scores
 * form one threshold, so the curve is trapezoidal across ties (a tied positive/negative pair
 * counts 1/2). Computed from average ranks (Mann-Whitney U), which equals the trapezoid.
 * Throws when only one class is present (the AUC is undefined), as sklearn.
 * Shape: scores [N], target [N].
 */
export async function rocAuc(scores: MetricInput, target: MetricInput): Promise<number> {
  const fn = 'rocAuc';
  const s = await read(fn, 'scores', scores);
  const t = await read(fn, 'target', target);
  if (s.shape.length !== 1 || fmt(s.shape) !== fmt(t.shape)) {
    throw new Error(
      `${fn}: expected scores and target of the same shape [N], received scores ${fmt(s.shape)} and target ${fmt(t.shape)}`,
    );
  }
  const n = s.values.length;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = t.values[i];
    if (y !== 0 && y !== 1) throw new Error(`${fn}: target value ${y} at index ${i} is not 0 or 1`);
    if (Number.isNaN(s.values[i])) throw new Error(`${fn}: score at index ${i} is NaN`);
    positives += y;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `${fn}: only one class is present in target (${positives} positive, ${negatives} negative); the ROC AUC is undefined`,
    );
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s.values[a] - s.values[b]);
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && s.values[order[j + 1]] === s.values[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (t.values[order[k]] === 1) rankSum += averageRank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
