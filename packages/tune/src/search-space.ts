/** A parameter's value: what a trial's `params` hold. */
export type ParamValue = number | string | boolean;

/**
 * When a parameter exists: only if an earlier parameter is active and equals `equals` (or is
 * one of `in`). E.g. `momentum` only `when: { param: 'optimizer', equals: 'sgd' }`.
 */
export interface Condition {
  param: string;
  equals?: ParamValue;
  in?: readonly ParamValue[];
}

interface Conditional {
  when?: Condition;
}

/** An integer in [low, high] (both included), on a multiple of `step` from `low`, or log-uniform. */
export interface IntParam extends Conditional {
  type: 'int';
  low: number;
  high: number;
  step?: number;
  log?: boolean;
}

/**
 * A float in [low, high], uniform on a linear scale or on a log scale (`log: true`, low > 0).
 * `gridPoints` (default 5) is how many evenly spaced values (on its scale) the grid sampler uses.
 */
export interface FloatParam extends Conditional {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
  gridPoints?: number;
}

/** One of `values` (strings, numbers or booleans), unordered. */
export interface ChoiceParam<V extends ParamValue = ParamValue> extends Conditional {
  type: 'choice';
  values: readonly V[];
}

/** `true` or `false`. */
export interface BooleanParam extends Conditional {
  type: 'boolean';
}

export type ParamSpec = IntParam | FloatParam | ChoiceParam | BooleanParam;

/** Parameters by name, in the order they are drawn (a condition names an earlier one). */
export type SpaceSpec = Record<string, ParamSpec>;

type ValueOf<P extends ParamSpec> =
  P extends ChoiceParam<infer V> ? V : P extends BooleanParam ? boolean : number;

/** The params of a trial of `S`: conditional parameters may be absent. */
export type Params<S extends SpaceSpec> = {
  [K in keyof S as S[K] extends { when: Condition } ? never : K]: ValueOf<S[K]>;
} & {
  [K in keyof S as S[K] extends { when: Condition } ? K : never]?: ValueOf<S[K]>;
};

/** An integer parameter in [low, high]. */
export function int(
  low: number,
  high: number,
  options: { step?: number; log?: boolean; when?: Condition } = {},
): IntParam {
  return { type: 'int', low, high, ...options };
}

/** A float parameter in [low, high] (log scale with `log: true`). */
export function float(
  low: number,
  high: number,
  options: { log?: boolean; gridPoints?: number; when?: Condition } = {},
): FloatParam {
  return { type: 'float', low, high, ...options };
}

/** A choice among `values`. */
export function choice<const V extends ParamValue>(
  values: readonly V[],
  options: { when?: Condition } = {},
): ChoiceParam<V> {
  return { type: 'choice', values, ...options };
}

/** A boolean parameter. */
export function boolean(options: { when?: Condition } = {}): BooleanParam {
  return { type: 'boolean', ...options };
}

const KEYS: Record<ParamSpec['type'], string[]> = {
  int: ['type', 'low', 'high', 'step', 'log', 'when'],
  float: ['type', 'low', 'high', 'log', 'gridPoints', 'when'],
  choice: ['type', 'values', 'when'],
  boolean: ['type', 'when'],
};

/**
 * A validated search space: parameter specs in draw order, with the conversions samplers use
 * (a numeric parameter's internal scale is its log for `log: true`).
 */
export class SearchSpace<S extends SpaceSpec = SpaceSpec> {
  readonly spec: Readonly<S>;
  readonly names: readonly string[];

  constructor(spec: S) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new Error(`SearchSpace: expected an object of parameters, received ${String(spec)}`);
    }
    const names = Object.keys(spec);
    if (names.length === 0) throw new Error('SearchSpace: the space has no parameters');
    for (const [i, name] of names.entries()) checkParam(name, spec[name], names.slice(0, i), spec);
    this.spec = Object.freeze({ ...spec });
    this.names = names;
  }

  /** Whether `name` is active given the earlier parameters' values in `params`. */
  isActive(name: string, params: Readonly<Record<string, ParamValue>>): boolean {
    const when = this.spec[name].when;
    if (!when) return true;
    if (!(when.param in params)) return false;
    const value = params[when.param];
    if (when.in) return when.in.includes(value);
    return value === when.equals;
  }

  /** Numeric parameter -> its internal scale (log for log parameters). */
  toInternal(name: string, value: number): number {
    const p = this.spec[name] as IntParam | FloatParam;
    return p.log ? Math.log(value) : value;
  }

  /** Internal scale -> a valid value: exp for log, clamped, integers rounded onto their step. */
  fromInternal(name: string, x: number): number {
    const p = this.spec[name] as IntParam | FloatParam;
    let v = p.log ? Math.exp(x) : x;
    if (p.type === 'int') {
      const step = p.step ?? 1;
      v = p.low + Math.round((v - p.low) / step) * step;
      while (v > p.high) v -= step;
    }
    return Math.min(p.high, Math.max(p.low, v));
  }

  /** Internal bounds of a numeric parameter (integers widened by half a step, as for rounding). */
  internalBounds(name: string): [number, number] {
    const p = this.spec[name] as IntParam | FloatParam;
    if (p.type === 'int') {
      const half = (p.step ?? 1) / 2;
      const low = p.log ? Math.log(Math.max(p.low - half, p.low / 2)) : p.low - half;
      return [low, p.log ? Math.log(p.high + half) : p.high + half];
    }
    return p.log ? [Math.log(p.low), Math.log(p.high)] : [p.low, p.high];
  }

  /**
   * Throw unless `params` is a valid point: every active parameter present and in range, no
   * inactive or unknown parameter. Names the parameter, the expected and the received value.
   */
  check(params: Readonly<Record<string, unknown>>): void {
    for (const key of Object.keys(params)) {
      if (!(key in this.spec)) throw new Error(`params: unknown parameter '${key}'`);
    }
    const seen: Record<string, ParamValue> = {};
    for (const name of this.names) {
      const active = this.isActive(name, seen);
      const has = name in params;
      if (!active) {
        if (has) throw new Error(`params: '${name}' is given but its condition does not hold`);
        continue;
      }
      if (!has) throw new Error(`params: missing parameter '${name}'`);
      const v = params[name] as ParamValue;
      const p = this.spec[name];
      const bad = (expected: string) =>
        new Error(`params: '${name}' must be ${expected}, received ${JSON.stringify(v)}`);
      if (p.type === 'choice' && !p.values.includes(v)) {
        throw bad(`one of ${JSON.stringify(p.values)}`);
      }
      if (p.type === 'boolean' && typeof v !== 'boolean') throw bad('a boolean');
      if (p.type === 'int' || p.type === 'float') {
        if (typeof v !== 'number' || !(v >= p.low && v <= p.high)) {
          throw bad(`a number in [${p.low}, ${p.high}]`);
        }
        if (p.type === 'int' && !Number.isInteger((v - p.low) / (p.step ?? 1))) {
          throw bad(`an integer ${p.low} + k * ${p.step ?? 1}`);
        }
      }
      seen[name] = v;
    }
  }

  toJSON(): S {
    return { ...this.spec } as S;
  }
}

/** Validate `spec` and return the search space (throws naming the bad parameter and field). */
export function defineSpace<const S extends SpaceSpec>(spec: S): SearchSpace<S> {
  return new SearchSpace(spec);
}

function checkParam(name: string, p: ParamSpec, earlier: string[], spec: SpaceSpec): void {
  const fail = (what: string) => new Error(`search space: parameter '${name}': ${what}`);
  if (p === null || typeof p !== 'object') throw fail(`expected an object, received ${String(p)}`);
  const keys = KEYS[p.type as ParamSpec['type']];
  if (!keys) {
    throw fail(
      `type must be 'int', 'float', 'choice' or 'boolean', received ${JSON.stringify(p.type)}`,
    );
  }
  for (const key of Object.keys(p)) {
    if (!keys.includes(key)) throw fail(`unknown field '${key}' (a ${p.type} has ${keys})`);
  }
  if (p.type === 'int' || p.type === 'float') {
    if (!Number.isFinite(p.low) || !Number.isFinite(p.high) || !(p.low < p.high)) {
      throw fail(`expected finite low < high, received low=${p.low}, high=${p.high}`);
    }
    if (p.log && !(p.low > 0)) throw fail(`a log scale needs low > 0, received low=${p.low}`);
  }
  if (p.type === 'int') {
    if (!Number.isInteger(p.low) || !Number.isInteger(p.high)) {
      throw fail(`low and high must be integers, received low=${p.low}, high=${p.high}`);
    }
    if (p.step !== undefined && !(Number.isInteger(p.step) && p.step >= 1)) {
      throw fail(`step must be a positive integer, received ${p.step}`);
    }
    if (p.step !== undefined && p.step > 1 && p.log) {
      throw fail('step and log cannot be combined');
    }
  }
  if (p.type === 'float' && p.gridPoints !== undefined) {
    if (!(Number.isInteger(p.gridPoints) && p.gridPoints >= 1)) {
      throw fail(`gridPoints must be a positive integer, received ${p.gridPoints}`);
    }
  }
  if (p.type === 'choice') {
    if (!Array.isArray(p.values) || p.values.length === 0) {
      throw fail(`values must be a non-empty array, received ${JSON.stringify(p.values)}`);
    }
    for (const v of p.values) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) {
        throw fail(`values must be strings, numbers or booleans, received ${JSON.stringify(v)}`);
      }
    }
    if (new Set(p.values).size !== p.values.length) {
      throw fail(`values must be distinct, received ${JSON.stringify(p.values)}`);
    }
  }
  if (p.when !== undefined) {
    const w = p.when;
    if (!earlier.includes(w.param)) {
      throw fail(
        `when.param must name an earlier parameter (${earlier.join(', ') || 'none'}), received ${JSON.stringify(w.param)}`,
      );
    }
    if ((w.equals === undefined) === (w.in === undefined)) {
      throw fail('when needs exactly one of equals or in');
    }
    const target = spec[w.param];
    const possible: ParamValue[] | null =
      target.type === 'choice'
        ? [...target.values]
        : target.type === 'boolean'
          ? [true, false]
          : null;
    for (const v of w.in ?? [w.equals as ParamValue]) {
      if (possible && !possible.includes(v)) {
        throw fail(
          `when: '${w.param}' never equals ${JSON.stringify(v)} (its values: ${JSON.stringify(possible)})`,
        );
      }
    }
  }
}
