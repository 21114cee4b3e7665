import { importPeer } from './internal/node';

/** A Vega-Lite specification (plain JSON; render it with `renderChartSvg` or vega-embed). */
export type VegaLiteSpec = Record<string, unknown>;

/** One epoch's logs, structurally as @convkit/train's `EpochLogs`. */
export interface EpochLogsLike {
  epoch: number;
  loss: number;
  metrics?: Record<string, number>;
  valLoss?: number;
  valMetrics?: Record<string, number>;
  lr?: number;
}

/**
 * A training history: @convkit/train's `History` (anything with `series()`), `fit`'s
 * `history` (epoch logs), series by name (`{ loss: [...], val_loss: [...] }`) or the text of
 * `CSVLogger`'s file (header `epoch,loss,...`).
 */
export type HistoryLike =
  | { series(): Record<string, number[]> }
  | readonly EpochLogsLike[]
  | Record<string, readonly number[]>
  | string;

/** Series by name (`loss`, `accuracy`, `val_loss`, `val_accuracy`, `lr`), one value per epoch. */
export function historySeries(history: HistoryLike): Record<string, number[]> {
  if (typeof history === 'string') return parseCsv(history);
  if (Array.isArray(history)) {
    const out: Record<string, number[]> = {};
    const push = (k: string, v: number | undefined) => {
      if (v === undefined) return;
      out[k] ??= [];
      out[k].push(v);
    };
    for (const e of history as readonly EpochLogsLike[]) {
      push('loss', e.loss);
      for (const [k, v] of Object.entries(e.metrics ?? {})) push(k, v);
      push('val_loss', e.valLoss);
      for (const [k, v] of Object.entries(e.valMetrics ?? {})) push(`val_${k}`, v);
      push('lr', e.lr);
    }
    return out;
  }
  if (typeof (history as { series?: unknown }).series === 'function') {
    return (history as { series(): Record<string, number[]> }).series();
  }
  return Object.fromEntries(
    Object.entries(history as Record<string, readonly number[]>).map(([k, v]) => [k, [...v]]),
  );
}

function parseCsv(text: string): Record<string, number[]> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0)
    throw new Error('historySeries: the CSV text is empty; expected a header line');
  const columns = lines[0].split(',').map((c) => c.trim());
  const out: Record<string, number[]> = {};
  lines.slice(1).forEach((line, row) => {
    const cells = line.split(',');
    columns.forEach((c, i) => {
      if (c === 'epoch' || c === 'seconds' || cells[i] === undefined || cells[i].trim() === '')
        return;
      const v = Number(cells[i]);
      if (Number.isNaN(v)) {
        throw new Error(
          `historySeries: CSV line ${row + 2}, column '${c}': expected a number; received '${cells[i]}'`,
        );
      }
      out[c] ??= [];
      out[c].push(v);
    });
  });
  return out;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * Loss and metric curves per epoch: one panel for the losses (`loss`, `val_loss`), one for the
 * other metrics (`accuracy`, `val_accuracy`, ...); `lr` is left out.
 */
export function trainingCurvesSpec(
  history: HistoryLike,
  { width = 320, height = 180 } = {},
): VegaLiteSpec {
  const series = historySeries(history);
  const rows = (keys: string[]) =>
    keys.flatMap((key) => series[key].map((value, i) => ({ epoch: i + 1, value, series: key })));
  const losses: string[] = Object.keys(series).filter((k) => k === 'loss' || k === 'val_loss');
  const metrics = Object.keys(series).filter((k) => !losses.includes(k) && k !== 'lr');
  if (losses.length + metrics.length === 0) {
    throw new Error('trainingCurvesSpec: the history has no series; expected at least loss');
  }
  const panel = (keys: string[], title: string) => ({
    title,
    width,
    height,
    data: { values: rows(keys) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  const panels = [
    ...(losses.length ? [panel(losses, 'loss')] : []),
    ...(metrics.length ? [panel(metrics, 'metric')] : []),
  ];
  return { $schema: SCHEMA, hconcat: panels, resolve: { scale: { color: 'independent' } } };
}

function checkMatrix(
  fn: string,
  matrix: readonly (readonly number[])[],
  classNames?: readonly string[],
) {
  const n = matrix.length;
  if (n === 0 || matrix.some((r) => r.length !== n)) {
    throw new Error(
      `${fn}: argument 'matrix' must be square [classes][classes]; received rows of lengths ${matrix.map((r) => r.length).join(', ') || '(none)'}`,
    );
  }
  if (classNames && classNames.length !== n) {
    throw new Error(
      `${fn}: argument 'classNames' must have ${n} names (one per row); received ${classNames.length}`,
    );
  }
  return classNames ?? matrix.map((_, i) => String(i));
}

/** A confusion-matrix heatmap (rows true class, columns predicted), counts written in the cells. */
export function confusionMatrixSpec(
  matrix: readonly (readonly number[])[],
  classNames?: readonly string[],
  { size = 28 } = {},
): VegaLiteSpec {
  const names = checkMatrix('confusionMatrixSpec', matrix, classNames);
  const values = matrix.flatMap((row, i) =>
    row.map((count, j) => ({ true: names[i], predicted: names[j], count })),
  );
  const max = Math.max(...matrix.flat());
  const axis = (field: string, title: string) => ({ field, type: 'ordinal', sort: names, title });
  return {
    $schema: SCHEMA,
    data: { values },
    width: size * names.length,
    height: size * names.length,
    encoding: { y: axis('true', 'true class'), x: axis('predicted', 'predicted class') },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'viridis' } } },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: {
            condition: { test: `datum.count > ${max / 2}`, value: 'black' },
            value: 'white',
          },
        },
      },
    ],
  };
}

/** Precision, recall and F1 per class from a confusion matrix (rows true, columns predicted). */
export function perClassMetrics(
  matrix: readonly (readonly number[])[],
  classNames?: readonly string[],
): { name: string; precision: number; recall: number; f1: number; support: number }[] {
  const names = checkMatrix('perClassMetrics', matrix, classNames);
  return names.map((name, k) => {
    const tp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[k], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support };
  });
}

/** Grouped bars of precision, recall and F1 per class. */
export function perClassMetricsSpec(
  matrix: readonly (readonly number[])[],
  classNames?: readonly string[],
): VegaLiteSpec {
  const values = perClassMetrics(matrix, classNames).flatMap((m) =>
    (['precision', 'recall', 'f1'] as const).map((metric) => ({
      class: m.name,
      metric,
      value: m[metric],
    })),
  );
  return {
    $schema: SCHEMA,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'nominal', sort: null, title: null },
      xOffset: { field: 'metric' },
      y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal' },
    },
    width: { step: 42 },
    height: 160,
  };
}

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');

/**
 * Render a Vega-Lite spec to an SVG string with vega-lite (compile) and vega (headless view;
 * no canvas needed). Both are optional peers, imported on first use.
 */
export async function renderChartSvg(spec: VegaLiteSpec): Promise<string> {
  let vega: Vega;
  let vegaLite: VegaLite;
  try {
    [vega, vegaLite] = await Promise.all([
      importPeer<Vega>('vega'),
      importPeer<VegaLite>('vega-lite'),
    ]);
  } catch {
    throw new Error(
      'renderChartSvg: the optional peers vega and vega-lite are not installed (npm install vega vega-lite)',
    );
  }
  const compiled = vegaLite.compile(spec as unknown as Parameters<VegaLite['compile']>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
