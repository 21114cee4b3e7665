import type { StudyResult } from './study';
import type { TrialRecord } from './trial';

export interface ResultsTableOptions {
  /** Row order: by trial number (default) or best value first (failed trials last). */
  sortBy?: 'number' | 'value';
  /** At most this many rows. */
  limit?: number;
  /** Significant digits of values and float params (default 4). */
  digits?: number;
}

/**
 * A Markdown table of a study's trials: number, state, value, steps run, seconds, and one
 * column per parameter (blank where a conditional parameter was inactive), followed by a line
 * naming the best trial and its configuration.
 */
export function resultsTable(study: StudyResult, options: ResultsTableOptions = {}): string {
  const digits = options.digits ?? 4;
  const fmt = (v: unknown) =>
    typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : Number(v.toPrecision(digits)).toString()
      : v === undefined
        ? ''
        : String(v);
  const names: string[] = [];
  for (const t of study.trials)
    for (const k of Object.keys(t.params)) if (!names.includes(k)) names.push(k);
  let rows = [...study.trials];
  if (options.sortBy === 'value') {
    const sign = study.direction === 'minimize' ? 1 : -1;
    const key = (t: TrialRecord) =>
      t.value === undefined || t.state === 'failed' ? Number.POSITIVE_INFINITY : sign * t.value;
    rows.sort((a, b) => key(a) - key(b) || a.number - b.number);
  }
  if (options.limit !== undefined) rows = rows.slice(0, options.limit);
  const header = ['trial', 'state', 'value', 'steps', 'seconds', ...names];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((t) => {
      const cells = [
        String(t.number),
        t.state,
        fmt(t.value),
        String(t.intermediate.at(-1)?.[0] ?? ''),
        t.seconds.toFixed(1),
        ...names.map((n) => fmt(t.params[n])),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  const best = study.best;
  const counts = ['complete', 'pruned', 'failed']
    .map((s) => `${study.trials.filter((t) => t.state === s).length} ${s}`)
    .join(', ');
  lines.push('', `${study.trials.length} trials (${counts}).`);
  lines.push(
    best
      ? `Best: trial ${best.number}, value ${fmt(best.value)} (${study.direction}), ${JSON.stringify(best.params)}`
      : 'Best: none (no complete trial).',
  );
  return lines.join('\n');
}
