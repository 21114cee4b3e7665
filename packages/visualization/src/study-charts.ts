import type { VegaLiteSpec } from './charts';

// Charts of a hyperparameter search. They take plain trial records, structurally (the shape of
// @convkit/tune's `TrialRecord`), not tune's types: the dependency rules let visualization
// depend only on backend and layers (tune depends on train and data, so importing it would
// pull the whole training stack into every chart user), and a record read back from a study's
// JSON file or from Redis is exactly this plain shape anyway.

/** A parameter's value in a trial: a number, a category or a flag. */
export type TrialParamValue = number | string | boolean;

/** One trial of a search, structurally as @convkit/tune's `TrialRecord`. */
export interface TrialLike {
  /** The trial's number (default its index in the array). */
  number?: number;
  /** The trial's parameters; a conditional parameter that was inactive is absent. */
  params: Readonly<Record<string, TrialParamValue | undefined>>;
  /** 'complete' (default), 'pruned' or 'failed'. */
  state?: string;
  /** The objective's value (a pruned trial's last reported value; none for a failed trial). */
  value?: number;
}

export type StudyDirection = 'minimize' | 'maximize';

export interface StudyChartOptions {
  /** Whether lower (default) or higher objective values are better. */
  direction?: StudyDirection;
  width?: number;
  height?: number;
  /** Title of the objective axis / legend (default 'objective'). */
  objective?: string;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const STATES = ['complete', 'pruned', 'failed'];

interface CheckedTrial {
  number: number;
  params: Record<string, TrialParamValue>;
  state: string;
  value?: number;
}

function checkTrials(fn: string, trials: readonly TrialLike[]): CheckedTrial[] {
  if (!Array.isArray(trials)) {
    throw new Error(
      `${fn}: argument 'trials' must be an array of trial records; received ${typeof trials}`,
    );
  }
  return trials.map((t, i) => {
    const where = `${fn}: trials[${i}]`;
    if (t === null || typeof t !== 'object' || t.params === null || typeof t.params !== 'object') {
      throw new Error(
        `${where} must be an object with a 'params' object; received ${JSON.stringify(t)}`,
      );
    }
    const state = t.state ?? 'complete';
    if (!STATES.includes(state)) {
      throw new Error(
        `${where}.state must be 'complete', 'pruned' or 'failed'; received ${JSON.stringify(state)}`,
      );
    }
    const number = t.number ?? i;
    if (!Number.isInteger(number)) {
      throw new Error(`${where}.number must be an integer; received ${JSON.stringify(t.number)}`);
    }
    if (state === 'complete' && (typeof t.value !== 'number' || !Number.isFinite(t.value))) {
      throw new Error(
        `${where}.value must be a finite number in a complete trial; received ${JSON.stringify(t.value)}`,
      );
    }
    if (t.value !== undefined && (typeof t.value !== 'number' || !Number.isFinite(t.value))) {
      throw new Error(
        `${where}.value must be a finite number or absent; received ${JSON.stringify(t.value)}`,
      );
    }
    const params: Record<string, TrialParamValue> = {};
    for (const [k, v] of Object.entries(t.params)) {
      if (v === undefined) continue;
      const ok =
        typeof v === 'string' ||
        typeof v === 'boolean' ||
        (typeof v === 'number' && Number.isFinite(v));
      if (!ok) {
        throw new Error(
          `${where}.params.${k} must be a finite number, a string or a boolean; received ${JSON.stringify(v)}`,
        );
      }
      params[k] = v;
    }
    return { number, params, state, value: t.value };
  });
}

function checkDirection(fn: string, direction: unknown): StudyDirection {
  if (direction !== 'minimize' && direction !== 'maximize') {
    throw new Error(
      `${fn}: option 'direction' must be 'minimize' or 'maximize'; received ${JSON.stringify(direction)}`,
    );
  }
  return direction;
}

/** Complete trials, by number. Throws when there are none. */
function completeTrials(fn: string, trials: CheckedTrial[]): CheckedTrial[] {
  const done = trials.filter((t) => t.state === 'complete').sort((a, b) => a.number - b.number);
  if (done.length === 0) {
    throw new Error(
      `${fn}: expected at least one complete trial with a value; received ${trials.length} trial(s), none complete`,
    );
  }
  return done;
}

/** Parameter names in first-seen order. */
function paramNames(trials: CheckedTrial[]): string[] {
  const names: string[] = [];
  for (const t of trials)
    for (const k of Object.keys(t.params)) if (!names.includes(k)) names.push(k);
  return names;
}

/**
 * The running best of the complete trials, in trial-number order: `[{ number, best }]`, one
 * entry per complete trial.
 */
export function runningBest(
  trials: readonly TrialLike[],
  direction: StudyDirection = 'minimize',
): { number: number; best: number }[] {
  const fn = 'runningBest';
  checkDirection(fn, direction);
  let best: number | undefined;
  return checkTrials(fn, trials)
    .filter((t) => t.state === 'complete')
    .sort((a, b) => a.number - b.number)
    .map((t) => {
      const v = t.value!;
      if (best === undefined || (direction === 'minimize' ? v < best : v > best)) best = v;
      return { number: t.number, best };
    });
}

/**
 * The objective over trials: one point per trial that has a value (coloured by state: pruned
 * trials show their last reported value), and the best value so far as a step line over the
 * complete trials.
 */
export function optimizationHistorySpec(
  trials: readonly TrialLike[],
  options: StudyChartOptions = {},
): VegaLiteSpec {
  const fn = 'optimizationHistorySpec';
  const direction = checkDirection(fn, options.direction ?? 'minimize');
  const checked = checkTrials(fn, trials);
  completeTrials(fn, checked);
  const title = options.objective ?? 'objective';
  const points = checked
    .filter((t) => t.value !== undefined)
    .map((t) => ({ trial: t.number, value: t.value, state: t.state }));
  const best = runningBest(trials, direction).map((b) => ({ trial: b.number, best: b.best }));
  const x = { field: 'trial', type: 'quantitative', title: 'trial', axis: { tickMinStep: 1 } };
  return {
    $schema: SCHEMA,
    title: `${title} over trials (${direction})`,
    width: options.width ?? 360,
    height: options.height ?? 220,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title, scale: { zero: false } },
          color: {
            field: 'state',
            type: 'nominal',
            title: 'trial state',
            // Failed trials have no value, so they are never drawn.
            scale: { domain: ['complete', 'pruned'], range: ['#1f77b4', '#ff7f0e'] },
          },
          tooltip: [
            { field: 'trial', type: 'quantitative' },
            { field: 'state', type: 'nominal' },
            { field: 'value', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values: best },
        mark: { type: 'line', interpolate: 'step-after', color: '#2ca02c', strokeWidth: 2 },
        encoding: { x, y: { field: 'best', type: 'quantitative', title } },
      },
    ],
  };
}

export interface ParallelCoordinatesOptions extends StudyChartOptions {
  /** The parameters to draw, in order (default: all, in first-seen order). */
  params?: readonly string[];
  /** Numeric parameters drawn on a log axis (default: those whose values are all > 0 and span 100x or more). */
  logParams?: readonly string[];
  /** Also draw pruned trials (their last reported value), default false. */
  includePruned?: boolean;
}

/**
 * Parallel coordinates: one vertical axis per parameter (numbers scaled between their minimum
 * and maximum, on a log scale where the values span 100x or more; categories and flags spread
 * evenly in sorted order), one line per trial coloured by its objective value. The axis ends
 * (or the categories) are written beside each axis. A conditional parameter that a trial did
 * not have breaks that trial's line there. The best trials are drawn on top.
 */
export function parallelCoordinatesSpec(
  trials: readonly TrialLike[],
  options: ParallelCoordinatesOptions = {},
): VegaLiteSpec {
  const fn = 'parallelCoordinatesSpec';
  checkDirection(fn, options.direction ?? 'minimize');
  const checked = checkTrials(fn, trials);
  const shown = checked
    .filter(
      (t) =>
        t.state === 'complete' ||
        (options.includePruned && t.state === 'pruned' && t.value !== undefined),
    )
    .sort((a, b) => a.number - b.number);
  completeTrials(fn, checked);
  const all = paramNames(shown);
  const names = options.params ? [...options.params] : all;
  for (const name of names) {
    if (!all.includes(name)) {
      throw new Error(
        `${fn}: option 'params' names '${name}', which no trial has; the trials have ${all.join(', ') || '(no parameters)'}`,
      );
    }
  }
  if (names.length === 0) throw new Error(`${fn}: the trials have no parameters to draw`);
  const title = options.objective ?? 'objective';
  const rows: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  const positions = new Map<string, (v: TrialParamValue) => number>();
  for (const name of names) {
    const values = shown.map((t) => t.params[name]).filter((v) => v !== undefined);
    const numeric = values.every((v) => typeof v === 'number');
    let position: (v: TrialParamValue) => number;
    if (numeric) {
      const nums = values as number[];
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      const log = options.logParams ? options.logParams.includes(name) : lo > 0 && hi / lo >= 100;
      if (log && lo <= 0) {
        throw new Error(
          `${fn}: option 'logParams' names '${name}', whose values include ${lo} (a log axis needs values > 0)`,
        );
      }
      const f = (v: number) => (log ? Math.log(v) : v);
      position = (v) => (hi === lo ? 0.5 : (f(v as number) - f(lo)) / (f(hi) - f(lo)));
      const fmt = (v: number) =>
        Number.isInteger(v) ? String(v) : Number(v.toPrecision(3)).toString();
      labels.push(
        { param: name, position: 0, label: fmt(lo) },
        { param: name, position: 1, label: fmt(hi) },
      );
      if (log) labels.push({ param: name, position: -0.06, label: '(log)' });
    } else {
      const categories = [...new Set(values.map(String))].sort();
      position = (v) =>
        categories.length === 1 ? 0.5 : categories.indexOf(String(v)) / (categories.length - 1);
      for (const c of categories) labels.push({ param: name, position: position(c), label: c });
    }
    positions.set(name, position);
  }
  // Worst first, so that the best trials' lines are drawn on top; an inactive parameter gives a
  // null position, which breaks the trial's line there rather than joining its neighbours.
  const minimize = (options.direction ?? 'minimize') === 'minimize';
  const byValue = [...shown].sort((a, b) => (minimize ? b.value! - a.value! : a.value! - b.value!));
  for (const t of byValue) {
    for (const name of names) {
      const v = t.params[name];
      rows.push({
        trial: t.number,
        param: name,
        position: v === undefined ? null : positions.get(name)!(v),
        raw: v === undefined ? '(inactive)' : String(v),
        value: t.value,
      });
    }
  }
  const x = {
    field: 'param',
    type: 'nominal',
    sort: names,
    title: null,
    axis: { labelAngle: 0, domain: false, ticks: false },
  };
  const best = minimize ? 'lower is better' : 'higher is better';
  return {
    $schema: SCHEMA,
    title: `parameters of ${shown.length} trial(s), coloured by ${title} (${best})`,
    width: options.width ?? Math.max(240, 110 * names.length),
    height: options.height ?? 240,
    layer: [
      {
        data: { values: names.map((param) => ({ param })) },
        mark: { type: 'rule', color: '#888' },
        encoding: {
          x,
          y: { datum: 0, type: 'quantitative', axis: null, scale: { domain: [-0.08, 1.04] } },
          y2: { datum: 1 },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 },
        encoding: {
          x,
          y: {
            field: 'position',
            type: 'quantitative',
            axis: null,
            scale: { domain: [-0.08, 1.04] },
          },
          detail: { field: 'trial', type: 'nominal' },
          color: {
            field: 'value',
            type: 'quantitative',
            title,
            scale: { scheme: 'viridis', reverse: minimize },
          },
          tooltip: [
            { field: 'trial', type: 'quantitative' },
            { field: 'param', type: 'nominal' },
            { field: 'raw', type: 'nominal', title: 'value' },
            { field: 'value', type: 'quantitative', title },
          ],
        },
      },
      {
        data: { values: labels },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333' },
        encoding: {
          x,
          y: { field: 'position', type: 'quantitative', axis: null },
          text: { field: 'label' },
        },
      },
    ],
  };
}

export interface ParameterImportanceOptions {
  /** Numeric parameters with more distinct values than this are binned into this many quantile groups (default 4). */
  bins?: number;
}

/** One parameter's importance, from the complete trials where it was active. */
export interface ParameterImportance {
  param: string;
  /** Share of the summed effects (`effect` over the sum of all parameters' effects); 0 when all are 0. */
  importance: number;
  /** The bias-corrected effect size ε² = (SSB − (k − 1)·MSW) / SST, floored at 0. */
  effect: number;
  /** The plain correlation ratio η² = SSB / SST. */
  etaSquared: number;
  /** Groups (categories or quantile bins) and trials it was computed from. */
  groups: number;
  trials: number;
}

/**
 * Parameter importance as the share of the objective's variance explained by each parameter
 * alone: a one-way analysis of variance per parameter over the complete trials. The trials are
 * grouped by the parameter's value (categories and flags by value; numbers with more distinct
 * values than `bins` into `bins` quantile groups of near-equal size by rank), and the effect is
 * ε² = (SSB − (k − 1)·MSW) / SST (between-group sum of squares, corrected for the k − 1 degrees
 * of freedom that a noise parameter would explain by chance; floored at 0), which is nearly 0
 * for a parameter that does not matter, where plain η² = SSB / SST would be about (k − 1) /
 * (n − 1); with one trial per group it is 0 (nothing to tell an effect from chance).
 * `importance` normalizes the effects to sum to 1. It sees main effects only (not
 * interactions, as fANOVA would) and needs a few trials per group to mean anything; sorted
 * most important first.
 */
export function parameterImportance(
  trials: readonly TrialLike[],
  options: ParameterImportanceOptions = {},
): ParameterImportance[] {
  const fn = 'parameterImportance';
  const bins = options.bins ?? 4;
  if (!Number.isInteger(bins) || bins < 2) {
    throw new Error(`${fn}: option 'bins' must be an integer >= 2; received ${bins}`);
  }
  const done = completeTrials(fn, checkTrials(fn, trials));
  const names = paramNames(done);
  if (names.length === 0) throw new Error(`${fn}: the trials have no parameters`);
  const results = names.map((param) => {
    const active = done.filter((t) => t.params[param] !== undefined);
    const values = active.map((t) => t.params[param]);
    let keys: string[];
    if (values.every((v) => typeof v === 'number') && new Set(values).size > bins) {
      // Quantile bins by rank (ties keep their order of appearance, so equal values may split).
      const order = active
        .map((_, i) => i)
        .sort((a, b) => (values[a] as number) - (values[b] as number));
      keys = new Array(active.length);
      order.forEach((i, rank) => {
        keys[i] = String(Math.floor((rank * bins) / active.length));
      });
    } else keys = values.map((v) => `${typeof v}:${String(v)}`);
    const y = active.map((t) => t.value!);
    const n = y.length;
    const mean = y.reduce((a, b) => a + b, 0) / n;
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const g = groups.get(k) ?? [];
      g.push(y[i]);
      groups.set(k, g);
    });
    const k = groups.size;
    const sst = y.reduce((a, v) => a + (v - mean) ** 2, 0);
    let ssb = 0;
    for (const g of groups.values()) {
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      ssb += g.length * (m - mean) ** 2;
    }
    const ssw = sst - ssb;
    const ok = sst > 0 && k > 1;
    const etaSquared = ok ? ssb / sst : 0;
    // With one trial per group (n = k) there is no within-group variance to tell an effect from
    // chance: every parameter with distinct values would "explain" everything. Effect 0.
    const effect = ok && n > k ? Math.max(0, (ssb - ((k - 1) * ssw) / (n - k)) / sst) : 0;
    return { param, importance: 0, effect, etaSquared, groups: k, trials: n };
  });
  const total = results.reduce((a, r) => a + r.effect, 0);
  for (const r of results) r.importance = total > 0 ? r.effect / total : 0;
  return results.sort((a, b) => b.importance - a.importance || a.param.localeCompare(b.param));
}

/** Horizontal bars of `parameterImportance`, most important on top, with ε² in each tooltip. */
export function parameterImportanceSpec(
  trials: readonly TrialLike[],
  options: ParameterImportanceOptions & { width?: number } = {},
): VegaLiteSpec {
  const importance = parameterImportance(trials, options);
  const complete = importance.reduce((n, r) => Math.max(n, r.trials), 0);
  const values = importance.map((r) => ({
    param: r.param,
    importance: r.importance,
    effect: r.effect,
    groups: r.groups,
    trials: r.trials,
  }));
  return {
    $schema: SCHEMA,
    title: {
      text: 'parameter importance (share of explained variance, ε²)',
      subtitle: importance.every((r) => r.effect === 0)
        ? `no parameter explains more than chance in ${complete} complete trial(s)`
        : `from ${complete} complete trial(s)`,
    },
    data: { values },
    width: options.width ?? 300,
    height: { step: 22 },
    mark: 'bar',
    encoding: {
      y: { field: 'param', type: 'nominal', sort: '-x', title: null },
      x: {
        field: 'importance',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        axis: { format: '%' },
      },
      tooltip: [
        { field: 'param', type: 'nominal' },
        { field: 'importance', type: 'quantitative', format: '.1%' },
        { field: 'effect', type: 'quantitative', format: '.3f', title: 'ε²' },
        { field: 'groups', type: 'quantitative' },
        { field: 'trials', type: 'quantitative' },
      ],
    },
  };
}
