/**
 * Option checks shared by optimizers and schedules. Every message names the class, the
 * argument, what was expected and what was received:
 * `Adam: betas[0] must be in [0, 1), received 1.2`.
 */

/** A check of one option: returns null when `value` is fine, else what was expected. */
export type Rule = (value: unknown) => { path: string; expected: string; received: unknown } | null;

/** Format a received value for an error message. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Throw `Class: what must be expected, received value`. */
export function fail(owner: string, what: string, expected: string, received: unknown): never {
  throw new Error(`${owner}: ${what} must be ${expected}, received ${formatValue(received)}`);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

export const nonNegative: Rule = (v) =>
  isNumber(v) && v >= 0 ? null : { path: '', expected: '>= 0', received: v };

export const positive: Rule = (v) =>
  isNumber(v) && v > 0 ? null : { path: '', expected: '> 0', received: v };

export const boolean: Rule = (v) =>
  typeof v === 'boolean' ? null : { path: '', expected: 'a boolean', received: v };

export const unitClosed: Rule = (v) =>
  isNumber(v) && v >= 0 && v <= 1 ? null : { path: '', expected: 'in [0, 1]', received: v };

export const unitHalfOpen: Rule = (v) =>
  isNumber(v) && v >= 0 && v < 1 ? null : { path: '', expected: 'in [0, 1)', received: v };

export const positiveInteger: Rule = (v) =>
  Number.isInteger(v) && (v as number) > 0
    ? null
    : { path: '', expected: 'a positive integer', received: v };

/** `[beta1, beta2]`, each in [0, 1). */
export const betas: Rule = (v) => {
  if (!Array.isArray(v) || v.length !== 2) {
    return { path: '', expected: 'a pair [beta1, beta2]', received: v };
  }
  for (let i = 0; i < 2; i++) {
    const problem = unitHalfOpen(v[i]);
    if (problem) return { ...problem, path: `[${i}]` };
  }
  return null;
};

/** `'a' | 'b'` */
export function oneOf(...choices: string[]): Rule {
  return (v) =>
    typeof v === 'string' && choices.includes(v)
      ? null
      : { path: '', expected: `one of ${choices.map((c) => `'${c}'`).join(', ')}`, received: v };
}

/** Throw when `options` has a key that is not in `known`. */
export function checkKnownKeys(
  owner: string,
  options: object,
  known: readonly string[],
  where = '',
): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new Error(
        `${owner}: unknown option ${where}${JSON.stringify(key)} (known options: ${known.join(', ')})`,
      );
    }
  }
}

/** Check `options` (a full, merged record) against `rules`; `where` prefixes the argument name. */
export function checkRules(
  owner: string,
  options: Record<string, unknown>,
  rules: Record<string, Rule>,
  where = '',
): void {
  for (const [key, rule] of Object.entries(rules)) {
    const problem = rule(options[key]);
    if (problem) fail(owner, `${where}${key}${problem.path}`, problem.expected, problem.received);
  }
}

/**
 * Refuse a state with missing or unknown keys, naming each, in the words of convkit's state
 * protocol (`StateDictError` of `@convkit/backend`, which optimizers do not import: they depend on
 * tfjs-core alone, so the error matches by `name` and message, not by class).
 */
export function checkStateKeys(owner: string, state: unknown, keys: readonly string[]): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw stateDictError(owner, [
      `state: expected { ${keys.join(', ')} }, received ${formatValue(state)}`,
    ]);
  }
  const given = Object.keys(state);
  const problems = [
    ...keys.filter((k) => !given.includes(k)).map((k) => `missing key ${k}`),
    ...given.filter((k) => !keys.includes(k)).map((k) => `unexpected key ${k}`),
  ];
  if (problems.length > 0) throw stateDictError(owner, problems);
}

function stateDictError(owner: string, problems: string[]): Error {
  const error = new Error(
    problems.length === 1
      ? `${owner}.loadStateDict: ${problems[0]}`
      : `${owner}.loadStateDict: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
  );
  error.name = 'StateDictError';
  return error;
}
