import { checkOptions } from './internal/checks';
import { labelsOf, read } from './internal/read';
import type { MetricInput } from './metric-input';

/**
 * Fraction of correct predictions. `input` holds labels of the target's shape, or scores
 * with a trailing class axis (argmax is taken). Reads tensors back; creates none.
 * Shape: target [N] or [N, ...spatial]; input the same, or [..., C].
 */
export async function accuracy(input: MetricInput, target: MetricInput): Promise<number> {
  const fn = 'accuracy';
  const t = await read(fn, 'target', target);
  const { labels } = labelsOf(fn, await read(fn, 'input', input), t);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === t.values[i]) correct++;
  return labels.length === 0 ? Number.NaN : correct / labels.length;
}

/**
 * Fraction of samples whose target is among the k highest scores (ties broken towards the
 * lower class index, as a stable sort). Shape: input [N, C] scores, target [N].
 */
export async function topKAccuracy(
  input: MetricInput,
  target: MetricInput,
  options: { k?: number } = {},
): Promise<number> {
  const fn = 'topKAccuracy';
  checkOptions(fn, options, ['k']);
  const k = options.k ?? 5;
  const t = await read(fn, 'target', target);
  const x = await read(fn, 'input', input);
  if (x.shape.length !== 2 || t.shape.length !== 1 || x.shape[0] !== t.shape[0]) {
    throw new Error(
      `${fn}: expected input [N, C] and target [N], received input [${x.shape.join(', ')}] and target [${t.shape.join(', ')}]`,
    );
  }
  const [n, c] = x.shape;
  if (!Number.isInteger(k) || k < 1 || k > c) {
    throw new Error(`${fn}: expected k to be an integer in [1, ${c}], received ${String(k)}`);
  }
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const y = t.values[i];
    const sy = x.values[i * c + y];
    // Rank of the target's score: how many classes beat it (earlier classes win ties).
    let above = 0;
    for (let j = 0; j < c; j++) {
      const s = x.values[i * c + j];
      if (s > sy || (s === sy && j < y)) above++;
    }
    if (above < k) hits++;
  }
  return n === 0 ? Number.NaN : hits / n;
}
