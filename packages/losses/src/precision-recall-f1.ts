import { confusionMatrix } from './confusion-matrix';
import { checkOptions } from './internal/checks';
import type { MetricInput } from './metric-input';

export interface PrecisionRecallF1 {
  /** Averaged as requested. */
  precision: number;
  recall: number;
  f1: number;
  /** Per class, index = class (0 where undefined, sklearn's zero_division=0). */
  perClass: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
}

/**
 * Precision, recall and F1 for single-label classification, sklearn's definitions with
 * zero_division = 0:
 * - 'macro' (default): unweighted mean over the classes present in target or prediction
 *   (sklearn's default label set);
 * - 'micro': from the summed counts (equal to accuracy here);
 * - 'weighted': mean weighted by each class's support.
 */
export async function precisionRecallF1(
  input: MetricInput,
  target: MetricInput,
  options: { numClasses: number; average?: 'macro' | 'micro' | 'weighted' },
): Promise<PrecisionRecallF1> {
  const fn = 'precisionRecallF1';
  checkOptions(fn, options, ['numClasses', 'average']);
  const average = options?.average ?? 'macro';
  if (!['macro', 'micro', 'weighted'].includes(average)) {
    throw new Error(
      `${fn}: unknown average '${String(average)}'; expected 'macro', 'micro' or 'weighted'`,
    );
  }
  const m = await confusionMatrix(input, target, { numClasses: options.numClasses });
  const k = m.length;
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const tp = m.map((row, c) => row[c]);
  const support = m.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = m[0].map((_, c) => m.reduce((a, row) => a + row[c], 0));
  const precision = tp.map((v, c) => div(v, predicted[c]));
  const recall = tp.map((v, c) => div(v, support[c]));
  const f1 = precision.map((p, c) => div(2 * p * recall[c], p + recall[c]));
  const perClass = { precision, recall, f1, support };
  if (average === 'micro') {
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const p = div(sum(tp), sum(predicted));
    const r = div(sum(tp), sum(support));
    return { precision: p, recall: r, f1: div(2 * p * r, p + r), perClass };
  }
  const mean = (v: number[]) => {
    if (average === 'weighted') {
      const total = support.reduce((a, b) => a + b, 0);
      return div(
        v.reduce((a, x, c) => a + x * support[c], 0),
        total,
      );
    }
    const present = [...Array(k).keys()].filter((c) => support[c] > 0 || predicted[c] > 0);
    return div(
      present.reduce((a, c) => a + v[c], 0),
      present.length,
    );
  };
  return { precision: mean(precision), recall: mean(recall), f1: mean(f1), perClass };
}
