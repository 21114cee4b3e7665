import { checkNumber, checkOptions, fmt } from './internal/checks';
import { read } from './internal/read';
import type { MetricInput } from './metric-input';

interface Binarized {
  pred: Uint8Array;
  truth: Uint8Array;
  n: number;
  c: number;
}

async function binarize(
  fn: string,
  input: MetricInput,
  target: MetricInput,
  threshold: number,
): Promise<Binarized> {
  const x = await read(fn, 'input', input);
  const t = await read(fn, 'target', target);
  if (x.shape.length !== 2 || fmt(x.shape) !== fmt(t.shape)) {
    throw new Error(
      `${fn}: expected input and target of the same shape [N, C], received input ${fmt(x.shape)} and target ${fmt(t.shape)}`,
    );
  }
  const pred = Uint8Array.from(x.values as ArrayLike<number>, (v) => (v >= threshold ? 1 : 0));
  const truth = Uint8Array.from(t.values as ArrayLike<number>, (v, i) => {
    if (v !== 0 && v !== 1)
      throw new Error(`${fn}: target value ${v} at flat index ${i} is not 0 or 1`);
    return v;
  });
  return { pred, truth, n: x.shape[0], c: x.shape[1] };
}

/**
 * Multi-label accuracy. `input` holds probabilities (or logits with threshold 0); a label is
 * predicted when input >= threshold (default 0.5).
 * - criterion 'subset' (default, sklearn's accuracy_score): a sample counts only if all its
 *   labels are right;
 * - 'label': the fraction of correct (sample, label) pairs (Hamming accuracy).
 * Shape: input and target [N, C].
 */
export async function multiLabelAccuracy(
  input: MetricInput,
  target: MetricInput,
  options: { threshold?: number; criterion?: 'subset' | 'label' } = {},
): Promise<number> {
  const fn = 'multiLabelAccuracy';
  checkOptions(fn, options, ['threshold', 'criterion']);
  const threshold = checkNumber(fn, 'threshold', options.threshold ?? 0.5);
  const criterion = options.criterion ?? 'subset';
  if (criterion !== 'subset' && criterion !== 'label') {
    throw new Error(
      `${fn}: unknown criterion '${String(criterion)}'; expected 'subset' or 'label'`,
    );
  }
  const { pred, truth, n, c } = await binarize(fn, input, target, threshold);
  let good = 0;
  if (criterion === 'label') {
    for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) good++;
    return good / (n * c);
  }
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let j = 0; j < c && all; j++) all = pred[i * c + j] === truth[i * c + j];
    if (all) good++;
  }
  return good / n;
}

/**
 * Multi-label F1 with a threshold (input >= threshold is positive, default 0.5), sklearn's
 * f1_score on the binarized labels with zero_division = 0:
 * 'macro' (default) = mean of per-label F1 over ALL labels; 'micro' = F1 of summed counts.
 */
export async function multiLabelF1(
  input: MetricInput,
  target: MetricInput,
  options: { threshold?: number; average?: 'macro' | 'micro' } = {},
): Promise<{ f1: number; perClass: number[] }> {
  const fn = 'multiLabelF1';
  checkOptions(fn, options, ['threshold', 'average']);
  const threshold = checkNumber(fn, 'threshold', options.threshold ?? 0.5);
  const average = options.average ?? 'macro';
  if (average !== 'macro' && average !== 'micro') {
    throw new Error(`${fn}: unknown average '${String(average)}'; expected 'macro' or 'micro'`);
  }
  const { pred, truth, n, c } = await binarize(fn, input, target, threshold);
  const tp = new Array<number>(c).fill(0);
  const fp = new Array<number>(c).fill(0);
  const fnCount = new Array<number>(c).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const p = pred[i * c + j];
      const t = truth[i * c + j];
      if (p && t) tp[j]++;
      else if (p) fp[j]++;
      else if (t) fnCount[j]++;
    }
  }
  const f1Of = (a: number, b: number, d: number) =>
    2 * a + b + d === 0 ? 0 : (2 * a) / (2 * a + b + d);
  const perClass = tp.map((v, j) => f1Of(v, fp[j], fnCount[j]));
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const f1 = average === 'micro' ? f1Of(sum(tp), sum(fp), sum(fnCount)) : sum(perClass) / c;
  return { f1, perClass };
}
